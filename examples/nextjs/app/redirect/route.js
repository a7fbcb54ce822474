export const dynamic = 'force-dynamic';

export async function GET() {
  return new Response(null, { status: 302, headers: { Location: '/items/target' } });
}
