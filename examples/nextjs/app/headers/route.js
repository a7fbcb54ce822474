export const dynamic = 'force-dynamic';

export async function GET(request) {
  // The Fetch API joins repeated request headers with ", ".
  const tag = request.headers.get('x-tag');
  return Response.json({ 'x-tag': tag === null ? [] : [tag] });
}
