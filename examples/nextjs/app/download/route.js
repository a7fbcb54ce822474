import { DOWNLOAD } from '../../lib/data';

export const dynamic = 'force-dynamic';

export async function GET() {
  return new Response(DOWNLOAD, {
    headers: {
      'content-type': 'application/octet-stream',
      'content-disposition': 'attachment; filename="data.bin"',
      'content-length': String(DOWNLOAD.length),
    },
  });
}
