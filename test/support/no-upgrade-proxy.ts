import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy like the corporate ones that break WebSockets: every request goes on to the hub
 * at `targetPort` (responses streamed back as they come), but an `Upgrade` is answered 403. The
 * target may be down for a while (502) and back on the same port.
 */
export class NoUpgradeProxy {
  upgradesRefused = 0;

  private constructor(private readonly server: http.Server) {}

  static async start(targetPort: number): Promise<NoUpgradeProxy> {
    const server = http.createServer((request, response) => {
      const upstream = http.request(
        { host: '127.0.0.1', port: targetPort, method: request.method, path: request.url, headers: request.headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', () => {
        if (!response.headersSent) response.writeHead(502).end('hub unreachable');
        else response.destroy();
      });
      response.on('close', () => upstream.destroy());
      request.pipe(upstream);
    });
    const proxy = new NoUpgradeProxy(server);
    server.on('upgrade', (_request, socket) => {
      proxy.upgradesRefused += 1;
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
