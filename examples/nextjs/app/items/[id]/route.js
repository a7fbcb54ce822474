export const dynamic = 'force-dynamic';

export async function GET(request, { params }) {
  const { id } = await params;
  const headers = new Headers({ 'content-type': 'application/json' });
  headers.append('Vary', 'Accept');
  headers.append('Vary', 'Accept-Encoding');
  headers.append('Link', '</items>; rel="collection"');
  headers.append('Link', '</>; rel="home"');
  return new Response(JSON.stringify({ id: decodeURIComponent(id), raw_path: new URL(request.url).pathname }), { headers });
}

export async function DELETE() {
  return new Response(null, { status: 204 });
}
