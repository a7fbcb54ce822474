// An ordinary Express app written for Lambda Web Functions: it listens on the
// host:port in AWS_LAMBDA_HTTP_ENDPOINT (Web Functions sets it; PORT is not
// set), and knows nothing else of Lambda. Run it as Web Functions does:
//
//   AWS_LAMBDA_HTTP_ENDPOINT=127.0.0.1:3000 node index.js
//   portside-local web                  (from this folder: a local endpoint)
//
// Routes: the examples' shared routes (../README.md), plus GET /sse (Server-Sent
// Events), GET /blob?mb=N (N MiB streamed in 64 KiB writes) and GET
// /web-context (what the endpoint told the app about the request).
import crypto from 'node:crypto';
import express from 'express';
import cookieParser from 'cookie-parser';
import multer from 'multer';

// 1 MiB of every byte value (not UTF-8), and 5 MiB of text.
const DOWNLOAD = Buffer.alloc(1 << 20);
for (let i = 0; i < DOWNLOAD.length; i++) DOWNLOAD[i] = i % 251;
const LINE = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
const LARGE = LINE.repeat(Math.ceil((5 << 20) / LINE.length)).slice(0, 5 << 20);
// 64 KiB of the same byte pattern, for /blob (64 KiB is a multiple of 251's
// period only by chance: each write continues the pattern where it stopped).
const BLOCK = 64 * 1024;

const app = express();
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 6 * 1024 * 1024 } });

app.use(cookieParser());

app.get('/', (req, res) => {
  res.json({ app: 'web-function', framework: 'Express on Node.js, as a Lambda Web Function' });
});

app.get('/items/:id', (req, res) => {
  res.append('Vary', 'Accept');
  res.append('Vary', 'Accept-Encoding');
  res.append('Link', ['</items>; rel="collection"', '</>; rel="home"']);
  res.json({ id: req.params.id, raw_path: req.originalUrl.split('?')[0] });
});

app.delete('/items/:id', (req, res) => {
  res.status(204).end();
});

app.get('/query', (req, res) => {
  const raw = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
  res.json({ pairs: [...new URLSearchParams(raw)] });
});

app.get('/headers', (req, res) => {
  const tags = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === 'x-tag') tags.push(req.rawHeaders[i + 1]);
  }
  res.json({ 'x-tag': tags });
});

app.get('/cookies', (req, res) => {
  res.json({ cookies: req.cookies });
});

app.get('/cookies/set', (req, res) => {
  res.cookie('session', 'abc123', { path: '/', httpOnly: true });
  res.cookie('theme', 'dark', { path: '/' });
  res.json({ set: ['session', 'theme'] });
});

app.get('/redirect', (req, res) => {
  res.redirect(302, '/items/target');
});

app.post('/upload', upload.single('file'), (req, res) => {
  if (!req.file) {
    res.status(400).json({ error: 'expected a multipart field named file' });
    return;
  }
  res.json({
    filename: req.file.originalname,
    size: req.file.size,
    sha256: crypto.createHash('sha256').update(req.file.buffer).digest('hex'),
  });
});

app.get('/download', (req, res) => {
  res.attachment('data.bin');
  res.type('application/octet-stream');
  res.send(DOWNLOAD);
});

app.post('/echo', express.json({ limit: '6mb' }), (req, res) => {
  res.json({ received: req.body });
});

app.get('/etag', (req, res) => {
  res.set('ETag', '"v1"');
  res.json({ version: 1 });
});

app.get('/large', (req, res) => {
  res.type('text/plain; charset=utf-8');
  res.send(LARGE);
});

// Server-Sent Events: `count` events, `interval` seconds apart, each written
// as it is due; the headers (two cookies among them) go out first.
app.get('/sse', (req, res) => {
  const count = Number(req.query.count ?? 5);
  const interval = Number(req.query.interval ?? 0.5) * 1000;
  res.cookie('stream', 'ticks', { path: '/sse', httpOnly: true });
  res.cookie('ticks', String(count), { path: '/sse' });
  res.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  let i = 0;
  const tick = () => {
    res.write(`id: ${i}\nevent: tick\ndata: ${JSON.stringify({ n: i })}\n\n`);
    i += 1;
    if (i < count) timer = setTimeout(tick, interval);
    else res.end();
  };
  let timer = setTimeout(tick, 0);
  req.on('close', () => clearTimeout(timer));
});

// A large download written piece by piece, never held whole: `mb` MiB of
// bytes i % 251, in 64 KiB writes that wait for the socket to drain.
app.get('/blob', (req, res) => {
  const total = Number(req.query.mb ?? 32) * (1 << 20);
  res.type('application/octet-stream');
  let sent = 0;
  const write = () => {
    while (sent < total) {
      const n = Math.min(BLOCK, total - sent);
      const chunk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) chunk[i] = (sent + i) % 251;
      sent += n;
      if (!res.write(chunk)) {
        res.once('drain', write);
        return;
      }
    }
    res.end();
  };
  write();
});

// What the endpoint says about this request and this environment.
app.get('/web-context', (req, res) => {
  res.json({
    requestId: req.get('lambda-web-request-id') ?? null,
    endpointName: req.get('lambda-web-endpoint-name') ?? null,
    forwardedFor: req.get('x-forwarded-for') ?? null,
    upgrade: req.get('upgrade') ?? null,
    env: {
      AWS_LAMBDA_HTTP_ENDPOINT: process.env.AWS_LAMBDA_HTTP_ENDPOINT ?? null,
      AWS_LAMBDA_INITIALIZATION_TYPE: process.env.AWS_LAMBDA_INITIALIZATION_TYPE ?? null,
      AWS_REGION: process.env.AWS_REGION ?? null,
      PORT: process.env.PORT ?? null,
    },
  });
});

// host:port, the host possibly an IPv6 address in brackets.
const endpoint = process.env.AWS_LAMBDA_HTTP_ENDPOINT || '127.0.0.1:3000';
const colon = endpoint.lastIndexOf(':');
const host = endpoint.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
const port = Number(endpoint.slice(colon + 1));
const server = app.listen(port, host, () => {
  console.log(`web-function example listening on ${endpoint}`);
});
// Web Functions sends SIGTERM and allows 1 s: stop accepting, let requests in
// flight end, and exit.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
