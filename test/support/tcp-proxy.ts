import net from 'node:net';

/**
 * A TCP forwarder that tests control: it can stand in for the L4 balancer in front of hubs
 * (clients keep one address while the hub behind it is replaced) and cut the network between a
 * client and the hubs for a while.
 */
export class TcpProxy {
  private readonly connections = new Set<net.Socket>();
  private cutUntil = 0;

  private constructor(
    private readonly server: net.Server,
    private target: number,
  ) {
    server.on('connection', (client) => this.forward(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TcpProxy(server, targetPort);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** `url` (a hub's WebSocket URL) with this balancer's port. */
  urlFor(url: string): string {
    const through = new URL(url);
    through.port = String(this.port);
    return through.href;
  }

  /** New connections go to `port`; existing ones stay where they are. */
  retarget(port: number): void {
    this.target = port;
  }

  /** Drops every connection without a close frame and refuses new ones for `ms`, like a network outage. */
  cut(ms: number): void {
    this.cutUntil = Date.now() + ms;
    for (const socket of this.connections) socket.destroy();
  }

  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: net.Socket): void {
    if (Date.now() < this.cutUntil) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.connections.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.connections.delete(from);
        to.end();
      });
    }
  }
}
