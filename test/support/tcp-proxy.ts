import net from 'node:net';

/**
 * A TCP forwarder standing in for the L4 balancer in front of hubs: clients keep one address
 * while the hub behind it is replaced. (Restarting a hub on its own port right after it had
 * clients can fail while the old connections sit in TIME_WAIT.)
 */
export class Balancer {
  private readonly connections = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private target: number,
  ) {
    server.on('connection', (client) => this.forward(client));
  }

  static async start(targetPort: number): Promise<Balancer> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new Balancer(server, targetPort);
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

  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: net.Socket): void {
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
