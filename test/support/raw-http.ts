import net from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Sends `head` (CRLF line ends added) and then `body` over a bare TCP connection, exactly as
 * written, and resolves with the first HTTP response, or undefined when the connection closed
 * without one. For requests no HTTP client library would send: wrong handshakes, lying lengths.
 */
export function rawHttp(port: number, head: readonly string[], body = ''): Promise<RawResponse | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
    });
    let received = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(received));
    };
    const timer = setTimeout(finish, 3_000);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const response = parse(received);
      if (response && Buffer.byteLength(response.body, 'latin1') >= Number(response.headers['content-length'] ?? 0))
        finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', finish);
  });
}

function parse(text: string): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) };
}
