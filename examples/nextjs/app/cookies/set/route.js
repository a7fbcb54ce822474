import { NextResponse } from 'next/server';

export const dynamic = 'force-dynamic';

export async function GET() {
  const response = NextResponse.json({ set: ['session', 'theme'] });
  response.cookies.set('session', 'abc123', { path: '/', httpOnly: true });
  response.cookies.set('theme', 'dark', { path: '/' });
  return response;
}
