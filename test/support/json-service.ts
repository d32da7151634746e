import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JsonService {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A backend on loopback that answers each JSON POST with what `answer` returns for its path and
 * body (status 200), as an rpc endpoint or a proxy hook would.
 */
export async function startJsonService(
  answer: (path: string, body: Record<string, unknown>) => object | Promise<object>,
): Promise<JsonService> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
    const reply = await answer(request.url ?? '/', body);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
