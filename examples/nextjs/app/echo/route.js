export const dynamic = 'force-dynamic';

export async function POST(request) {
  let doc;
  try {
    doc = await request.json();
  } catch {
    return Response.json({ error: 'the body is not JSON' }, { status: 400 });
  }
  return Response.json({ received: doc });
}
