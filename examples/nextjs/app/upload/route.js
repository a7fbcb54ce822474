import { createHash } from 'node:crypto';

export const dynamic = 'force-dynamic';

export async function POST(request) {
  const form = await request.formData();
  const file = form.get('file');
  if (!file || typeof file === 'string') {
    return Response.json({ error: 'expected a multipart field named file' }, { status: 400 });
  }
  const data = Buffer.from(await file.arrayBuffer());
  return Response.json({
    filename: file.name,
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
  });
}
