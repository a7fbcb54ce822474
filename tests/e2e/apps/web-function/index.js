// A Lambda Web Functions app in its smallest form, for the end-to-end tests
// (tests/e2e/test_e2e_web_function.py, and its arm64 run in arm64.sh): Node's
// own http module listening on the host:port in AWS_LAMBDA_HTTP_ENDPOINT,
// with no package.json, so the shim starts it as Web Functions does
// (`node index.js`). GET /hello?name=N answers what the endpoint told it.
const http = require('node:http');

const endpoint = process.env.AWS_LAMBDA_HTTP_ENDPOINT ?? '127.0.0.1:3000';
const colon = endpoint.lastIndexOf(':');
const host = endpoint.slice(0, colon).replace(/^\[|\]$/g, '');
const port = Number(endpoint.slice(colon + 1));

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  if (req.method !== 'GET' || url.pathname !== '/hello') {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({
    greeting: `hello, ${url.searchParams.get('name') ?? 'world'}`,
    requestId: req.headers['lambda-web-request-id'] ?? null,
    endpointName: req.headers['lambda-web-endpoint-name'] ?? null,
    forwardedFor: req.headers['x-forwarded-for'] ?? null,
  }));
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.listen(port, host, () => console.log(`web function app listening on ${host}:${port}`));
