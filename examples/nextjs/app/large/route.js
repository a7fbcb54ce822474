import { LARGE } from '../../lib/data';

export const dynamic = 'force-dynamic';

export async function GET() {
  return new Response(LARGE, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
