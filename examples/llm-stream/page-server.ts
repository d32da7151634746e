// Serves the page and the SDK's browser bundle on one origin: npx tsx examples/llm-stream/page-server.ts
// then open http://127.0.0.1:8090/#a1 (the hub of hub.yaml on :8080).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';

const here = new URL('.', import.meta.url);
const bundle = new URL('../../client-sdk/dist/bundle/', import.meta.url);
const files: Record<string, [URL, string]> = {
  '/': [new URL('index.html', here), 'text/html; charset=utf-8'],
  '/switchboard.js': [new URL('switchboard.js', bundle), 'text/javascript'],
  '/worker.js': [new URL('worker.js', bundle), 'text/javascript'],
};

createServer(async (request, response) => {
  const file = files[new URL(request.url ?? '/', 'http://page').pathname];
  if (!file) {
    response.writeHead(404).end('not found');
    return;
  }
  response.writeHead(200, { 'content-type': file[1] }).end(await readFile(file[0]));
}).listen(8090, '127.0.0.1', () => console.log('http://127.0.0.1:8090/#a1'));
