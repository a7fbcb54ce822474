export const dynamic = 'force-dynamic';

const ETAG = '"v1"';

export async function GET(request) {
  if (request.headers.get('if-none-match') === ETAG) {
    return new Response(null, { status: 304, headers: { ETag: ETAG } });
  }
  return Response.json({ version: 1 }, { headers: { ETag: ETAG } });
}
