// An ordinary Express app. It knows nothing of Lambda: it listens on
// 127.0.0.1:$PORT, and portside turns each event into a request to it.
// Routes: the examples' shared routes (../README.md).
'use strict';

const crypto = require('node:crypto');
const express = require('express');
const cookieParser = require('cookie-parser');
const multer = require('multer');

// 1 MiB of every byte value (not UTF-8), and 5 MiB of text.
const DOWNLOAD = Buffer.alloc(1 << 20);
for (let i = 0; i < DOWNLOAD.length; i++) DOWNLOAD[i] = i % 251;
const LINE = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
const LARGE = LINE.repeat(Math.ceil((5 << 20) / LINE.length)).slice(0, 5 << 20);

const app = express();
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 6 * 1024 * 1024 } });

app.use(cookieParser());

app.get('/', (req, res) => {
  res.json({ app: 'express', framework: 'Express on Node.js' });
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
  // req.query groups values by key; the raw string keeps their order.
  const raw = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
  res.json({ pairs: [...new URLSearchParams(raw)] });
});

app.get('/headers', (req, res) => {
  // Node joins repeated X-Tag lines with ", "; rawHeaders keeps each line.
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
  // res.send answers 304 itself when If-None-Match matches the ETag.
  res.set('ETag', '"v1"');
  res.json({ version: 1 });
});

app.get('/large', (req, res) => {
  res.type('text/plain; charset=utf-8');
  res.send(LARGE);
});

const port = Number(process.env.PORT || 8080);
const server = app.listen(port, '127.0.0.1', () => {
  console.log(`express example listening on http://127.0.0.1:${port}`);
});
// Let connections idle through a freeze be closed by the client side, not
// mid-request: Node's default keep-alive timeout (5 s) is fine with portside's
// 4 s pool timeout.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
