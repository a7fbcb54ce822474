import { cookies } from 'next/headers';

export const dynamic = 'force-dynamic';

export async function GET() {
  const jar = await cookies();
  return Response.json({ cookies: Object.fromEntries(jar.getAll().map((c) => [c.name, c.value])) });
}
