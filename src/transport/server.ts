import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  us_listen_socket,
  us_socket,
  us_socket_context_t,
} from 'uWebSockets.js';
import { CloseCode, negotiateSubprotocol, SUBPROTOCOLS } from '@switchboard/protocol';
import type { ApiContext } from '../api/methods.js';
import { registerApi } from '../api/router.js';
import type { NodeContext } from '../context.js';
import { dispatch } from '../handlers/index.js';
import { registerDemo } from '../http/demo.js';
import { handleHealth, handleReady } from '../http/health.js';
import { handleMetrics } from '../http/metrics.js';
import { closeAfter, respondError, respondRefusal } from '../http/respond.js';
import { normalizeAddress } from '../limits/address.js';
import { forwardedOf } from '../proxy/forwarded.js';
import { Session } from '../session/session.js';
import { tlsOptions } from '../tls.js';
import { admitClient } from './admission.js';
import { handshakeProblem, headProblem } from './handshake.js';
import { registerSse } from './sse-routes.js';
import { SseStreams } from './sse-streams.js';
import type { Uws } from './uws.js';
import { type SocketData, UwsClientSocket } from './uws-socket.js';

/** The WebSocket endpoint path. */
export const WS_PATH = '/ws';

const LISTEN_EXCLUSIVE_PORT = 1;
type ListenWithOptions = (
  host: string,
  port: number,
  options: number,
  callback: (socket: us_listen_socket | false) => void,
) => TemplatedApp;

export interface ServerHooks {
  readonly notReadyReasons: () => readonly string[];
  readonly onSession: (session: Session) => void;
  readonly onSessionClosed: (session: Session, code: number) => void;
  /** Whether new connections are refused (the hub is stopping). */
  readonly refusing: () => boolean;
  /** Open client connections, for the demo page's `/api/stats`. */
  readonly connections: () => number;
  /** What the server API (`POST /api/<method>`) works with. */
  readonly api: ApiContext;
}

/** The uWS app: the WebSocket endpoint and the HTTP routes. */
export class Server {
  readonly app: TemplatedApp;
  /** SSE streams, and the fan-out that reaches them and the WebSockets' native topics. */
  readonly sse: SseStreams;
  /** The operators' listener (`http.internalPort`), when configured. */
  private internal: TemplatedApp | undefined;
  private listenSocket: us_listen_socket | undefined;
  private internalSocket: us_listen_socket | undefined;

  constructor(
    private readonly uws: Uws,
    node: NodeContext,
    hooks: ServerHooks,
  ) {
    const { limits } = node.config;
    /** Connections opened on this hub so far (WebSockets and SSE streams): each one's number, for its id. */
    let serial = 0;
    this.app = node.config.tls ? uws.SSLApp(tlsOptions(node.config.tls)) : uws.App();
    this.sse = new SseStreams(this.app, {
      closed: (session, socket, code) => {
        node.limits.perIp.closed(socket.remoteAddress);
        hooks.onSessionClosed(session, code);
      },
    });
    this.app.ws<SocketData>(WS_PATH, {
      // uWS drops a frame over its cap without a close frame (the client sees 1006). With the cap at
      // twice the limit, frames just over the limit get a proper 1009 from the session instead.
      maxPayloadLength: limits.maxFrameBytes * 2,
      // A subscriber whose queue is full would silently miss publications (uWS skips it); uWS
      // closes it instead (abruptly: the client sees 1006) at twice the limit, a hard cap behind
      // the slow-consumer sweep that closes it with 4001 at the limit. Either way it reconnects
      // and recovers from history (I6b, docs/architecture.md).
      maxBackpressure: limits.maxBackpressureBytes * 2,
      closeOnBackpressureLimit: 1,
      idleTimeout: limits.idleTimeoutSeconds,
      sendPingsAutomatically: true,
      compression: uws.DISABLED,
      upgrade: (res, req, context) => upgrade(res, req, context, hooks, node),
      open: (ws) => {
        const data = ws.getUserData();
        const socket = new UwsClientSocket(ws, data.format, data.remoteAddress, data.forwarded);
        data.socket = socket;
        const session = new Session(socket, node, dispatch, ++serial);
        socket.session = session;
        node.limits.perIp.opened(socket.remoteAddress);
        hooks.onSession(session);
      },
      message: (ws, message) => {
        const session = ws.getUserData().socket?.session;
        try {
          session?.onMessage(new Uint8Array(message));
        } catch (error) {
          // Nothing a client sends may take the hub down; this one socket pays for it.
          node.log.error({ err: error, session: session?.id }, 'frame handling failed');
          session?.close(CloseCode.INTERNAL, 'internal error');
        }
      },
      close: (ws, code) => {
        const { socket } = ws.getUserData();
        if (!socket) return;
        socket.closed = true;
        const { session } = socket;
        if (!session) return;
        node.limits.perIp.closed(socket.remoteAddress);
        session.onClose();
        hooks.onSessionClosed(session, code);
      },
    });
    const route = guarded(limits.maxHttpHeaderBytes, hooks.refusing);
    registerApi(this.app, hooks.api, {
      access: node.auth.api,
      maxBodyBytes: limits.maxHttpBodyBytes,
      log: node.log,
      called: (method, status) => node.metrics.apiCall(method, status),
      route,
    });
    this.app.get('/healthz', route(handleHealth));
    this.app.get('/readyz', route(handleReady(hooks.notReadyReasons)));
    const metrics = handleMetrics(node.metrics);
    const { internalPort } = node.config.http;
    if (internalPort === undefined) {
      // Metrics tell an outsider what runs here and how busy it is: same door as the HTTP API.
      this.app.get(
        '/metrics',
        route((res, req) => {
          const refused = node.auth.api.check(req.getHeader('authorization'), peerOf(res));
          if (refused) respondError(res, refused.status, refused.reason);
          else metrics(res);
        }),
      );
    } else {
      this.app.get(
        '/metrics',
        route((res) => respondError(res, '404 Not Found', 'metrics are served on the internal port')),
      );
      this.internal = uws.App();
      this.internal.get('/metrics', route(metrics));
      this.internal.get('/healthz', route(handleHealth));
      this.internal.get('/readyz', route(handleReady(hooks.notReadyReasons)));
      this.internal.any('/*', (res) => respondError(res, '404 Not Found', 'no such route'));
    }
    registerSse(this.app, {
      node,
      streams: this.sse,
      control: hooks.api.control,
      dispatch,
      serial: () => ++serial,
      refusing: hooks.refusing,
      onSession: hooks.onSession,
      route,
    });
    registerDemo(this.app, hooks.connections);
    this.app.any(
      '/*',
      route((res) => respondError(res, '404 Not Found', 'no such route')),
    );
  }

  /** Listens on an exclusive port: a second hub on the same port fails instead of sharing it. */
  async listen(host: string, port: number): Promise<number> {
    const [socket, bound] = await this.listenOn(this.app, host, port);
    this.listenSocket = socket;
    return bound;
  }

  /** Opens the internal listener, if configured; resolves with its port. */
  async listenInternal(host: string, port: number | undefined): Promise<number | undefined> {
    if (!this.internal || port === undefined) return undefined;
    const [socket, bound] = await this.listenOn(this.internal, host, port);
    this.internalSocket = socket;
    return bound;
  }

  /** Closes every remaining socket, HTTP keep-alive ones included, so the process can exit. */
  closeAll(): void {
    this.stopListening();
    if (this.internalSocket) this.uws.us_listen_socket_close(this.internalSocket);
    this.internalSocket = undefined;
    // Native since 20.2x; the bundled typings predate it.
    for (const app of [this.app, this.internal]) (app as (TemplatedApp & { close(): void }) | undefined)?.close();
  }

  /** Stops accepting connections; existing ones stay open. */
  stopListening(): void {
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  private listenOn(app: TemplatedApp, host: string, port: number): Promise<[us_listen_socket, number]> {
    return new Promise((resolve, reject) => {
      // The native binding takes (host, port, options, cb); the bundled typings lack that overload.
      const listen = app.listen as unknown as ListenWithOptions;
      listen.call(app, host, port, LISTEN_EXCLUSIVE_PORT, (socket) => {
        if (!socket) return reject(new Error(`cannot listen on ${host}:${port} (in use or not permitted)`));
        resolve([socket, this.uws.us_socket_local_port(socket as unknown as us_socket)]);
      });
    });
  }
}

type RouteHandler = (res: HttpResponse, req: HttpRequest) => void;

/**
 * Wraps a route so that requests with oversized headers get 431 before the route sees them, and
 * so that a draining hub answers with `Connection: close` (src/drain.ts).
 */
function guarded(maxHeaderBytes: number, draining: () => boolean): (handler: RouteHandler) => RouteHandler {
  return (handler) => (res, req) => {
    if (draining()) closeAfter(res);
    const refused = headProblem(req, maxHeaderBytes);
    if (refused) respondRefusal(res, refused);
    else handler(res, req);
  };
}

function peerOf(res: HttpResponse): string {
  return normalizeAddress(Buffer.from(res.getRemoteAddressAsText()).toString());
}

function upgrade(
  res: HttpResponse,
  req: HttpRequest,
  context: us_socket_context_t,
  hooks: ServerHooks,
  node: NodeContext,
): void {
  // RFC 6455 first: a request that is no valid handshake is refused the same way on every hub.
  const malformed = headProblem(req, node.config.limits.maxHttpHeaderBytes) ?? handshakeProblem(req);
  if (malformed) {
    respondRefusal(res, malformed);
    return;
  }
  // Per-address limits and the origin allow-list (src/limits, src/auth): refused before any socket exists.
  const remoteAddress = admitClient(res, req, node, hooks.refusing);
  if (remoteAddress === undefined) return;
  const format = negotiateSubprotocol(req.getHeader('sec-websocket-protocol'));
  if (!format) {
    res
      .writeStatus('400 Bad Request')
      .end(`missing or unsupported WebSocket subprotocol; offer ${SUBPROTOCOLS.msgpack} or ${SUBPROTOCOLS.json}`);
    return;
  }
  const data: SocketData = {
    format,
    remoteAddress: node.limits.perIp.intern(remoteAddress),
    forwarded: forwardedOf((name) => req.getHeader(name), node.config.proxy),
    socket: undefined,
  };
  res.upgrade(
    data,
    req.getHeader('sec-websocket-key'),
    SUBPROTOCOLS[format],
    req.getHeader('sec-websocket-extensions'),
    context,
  );
}
