export const dynamic = 'force-dynamic';

export async function GET(request) {
  // searchParams keeps every pair in the order sent.
  return Response.json({ pairs: [...new URL(request.url).searchParams] });
}
