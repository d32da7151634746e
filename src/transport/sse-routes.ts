import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { randomBytes } from 'node:crypto';
import { Channel, CloseCode, ConnectRequest } from '@switchboard/protocol';
import { z } from 'zod';
import type { Control } from '../cluster/control.js';
import { TICKET_PATTERN } from '../cluster/tickets.js';
import type { NodeContext } from '../context.js';
import { readBody, refuseOversizedBody } from '../http/body.js';
import { isAborted, respondError, respondJson, trackAbort } from '../http/respond.js';
import { forwardedOf } from '../proxy/forwarded.js';
import type { Dispatch } from '../session/session.js';
import { Session } from '../session/session.js';
import { admitClient } from './admission.js';
import { namedEvent, SseClientSocket } from './sse-socket.js';
import type { SseStreams } from './sse-streams.js';

/** The SSE and HTTP-streaming endpoint (protocol/README.md §1.1). */
export const SSE_PATH = '/sse';
/**
 * A ticket lives 30 s: long enough for a page to open its EventSource right after asking,
 * short enough that one leaked in a log is useless by the time anyone reads it.
 */
export const TICKET_TTL_MS = 30_000;
/** Frames one command POST may carry: a client batches what it sends while a POST is in flight. */
export const MAX_FRAMES_PER_POST = 64;
/** How long a hub waits for the stream's hub to take a forwarded command before answering 503. */
const FORWARD_DEADLINE_MS = 5_000;

type RouteHandler = (res: HttpResponse, req: HttpRequest) => void;

/** A command POST: the stream's connection id and key, and protocol frames in the JSON flavour. */
export const CommandPost = z.strictObject({
  s: z.string().min(1).max(64),
  k: z.string().min(1).max(64),
  f: z.array(z.unknown()).min(1).max(MAX_FRAMES_PER_POST),
});

export interface SseRouteContext {
  readonly node: NodeContext;
  readonly streams: SseStreams;
  readonly control: Control;
  readonly dispatch: Dispatch;
  /** The next connection number of this hub (shared with WebSockets: ids are unique per hub). */
  readonly serial: () => number;
  readonly refusing: () => boolean;
  readonly onSession: (session: Session) => void;
  readonly route: (handler: RouteHandler) => RouteHandler;
}

/**
 * The fallback for clients whose WebSocket upgrades fail: `GET /sse` (EventSource) and
 * `POST /sse` (HTTP streaming over fetch) open a stream of protocol frames, one event each;
 * `POST /sse/ticket` trades a connect frame (token included) for a single-use ticket to put in
 * the URL; `POST /sse/cmd` takes a client's frames on any hub and hands them to the hub that
 * holds its stream. No stickiness: every request may reach any hub.
 */
export function registerSse(app: TemplatedApp, context: SseRouteContext): void {
  const { node, route } = context;
  app.get(
    SSE_PATH,
    route((res, req) => openStream(res, req, context, 'get')),
  );
  app.post(
    SSE_PATH,
    route((res, req) => openStream(res, req, context, 'post')),
  );
  app.post(
    `${SSE_PATH}/ticket`,
    route((res, req) => {
      const refused = originProblem(req, node);
      if (refused) return respondError(res, '403 Forbidden', refused);
      if (refuseOversizedBody(res, req, node.config.limits.maxHttpBodyBytes)) return;
      const bearer = bearerOf(req);
      trackAbort(res);
      void (async () => {
        const connect = await connectFrameOf(res, node, bearer, true);
        if (typeof connect === 'string') return respondError(res, '400 Bad Request', connect);
        try {
          const ticket = await node.cluster.tickets.issue(JSON.stringify(connect), TICKET_TTL_MS);
          respondJson(res, '200 OK', { ticket, expiresInMs: TICKET_TTL_MS });
        } catch {
          respondError(res, '503 Service Unavailable', 'cluster state not reachable; retry');
        }
      })();
    }),
  );
  app.post(
    `${SSE_PATH}/cmd`,
    route((res, req) => {
      const refused = originProblem(req, node);
      if (refused) return respondError(res, '403 Forbidden', refused);
      if (refuseOversizedBody(res, req, node.config.limits.maxHttpBodyBytes)) return;
      trackAbort(res);
      void command(res, context);
    }),
  );
}

function originProblem(req: HttpRequest, node: NodeContext): string | undefined {
  const refused = node.auth.origins.check(req.getHeader('origin'));
  if (refused) node.limits.hit('origin');
  return refused;
}

function bearerOf(req: HttpRequest): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.getHeader('authorization'));
  return match?.[1];
}

/**
 * The connect frame a request stands for: its JSON body (a protocol `connect` frame), else one
 * made with the `Authorization: Bearer` token, else an anonymous one. A string says what is wrong.
 */
async function connectFrameOf(
  res: HttpResponse,
  node: NodeContext,
  bearer: string | undefined,
  hasBody: boolean,
): Promise<ConnectRequest | string> {
  let frame: unknown = { t: 'connect', id: 1 };
  if (hasBody) {
    const body = await readBody(res, node.config.limits.maxHttpBodyBytes);
    if (!body.ok) return body.tooLarge ? 'body too large' : 'body not read';
    if (body.body.byteLength > 0) {
      try {
        frame = JSON.parse(body.body.toString('utf8'));
      } catch {
        return 'the body is not JSON (a protocol connect frame, or nothing)';
      }
    }
  }
  const parsed = ConnectRequest.safeParse(frame);
  if (!parsed.success) return `the body is not a connect frame: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
  if (bearer !== undefined && parsed.data.token === undefined) return { ...parsed.data, token: bearer };
  return parsed.data;
}

/** The channels a stream's URL names (`ch`, repeatable), or what is wrong with them. */
function channelsOf(query: string, max: number): string[] | string {
  const channels = new URLSearchParams(query).getAll('ch');
  if (channels.length > max) return `at most ${max} channels (limits.maxSubscriptionsPerConnection)`;
  for (const channel of channels) if (!Channel.safeParse(channel).success) return 'invalid channel name in ch';
  return [...new Set(channels)];
}

/**
 * Opens a stream: the same refusals as a WebSocket upgrade (draining 503, per-address 429,
 * origin 403), then the connect frame from the ticket, the body or the header, then the
 * response turns into an event stream: first a `stream` event naming the connection and the key
 * its commands carry, then every frame the session sends.
 */
function openStream(res: HttpResponse, req: HttpRequest, context: SseRouteContext, method: 'get' | 'post') {
  const { node } = context;
  const remoteAddress = admitClient(res, req, node, context.refusing);
  if (remoteAddress === undefined) return;
  const query = req.getQuery() ?? '';
  const channels = channelsOf(query, node.config.limits.maxSubscriptionsPerConnection);
  if (typeof channels === 'string') return respondError(res, '400 Bad Request', channels);
  const ticket = new URLSearchParams(query).get('ticket') ?? undefined;
  if (ticket !== undefined && !TICKET_PATTERN.test(ticket))
    return respondError(res, '401 Unauthorized', 'ticket unknown, used or expired');
  if (method === 'post' && refuseOversizedBody(res, req, node.config.limits.maxHttpBodyBytes)) return;
  const bearer = bearerOf(req);
  const forwarded = forwardedOf((name) => req.getHeader(name), node.config.proxy);
  trackAbort(res);
  void (async () => {
    let connect: ConnectRequest | string;
    if (ticket !== undefined) {
      connect = await redeem(node, ticket);
    } else {
      connect = await connectFrameOf(res, node, bearer, method === 'post');
    }
    if (isAborted(res)) return;
    if (connect === 'unavailable')
      return respondError(res, '503 Service Unavailable', 'cluster state not reachable; retry');
    if (typeof connect === 'string') {
      return respondError(res, ticket === undefined ? '400 Bad Request' : '401 Unauthorized', connect);
    }
    start(res, context, node.limits.perIp.intern(remoteAddress), forwarded, connect, channels);
  })();
}

async function redeem(node: NodeContext, ticket: string): Promise<ConnectRequest | string> {
  let stored: string | undefined;
  try {
    stored = await node.cluster.tickets.take(ticket);
  } catch {
    return 'unavailable';
  }
  if (stored === undefined) return 'ticket unknown, used or expired';
  // Written by a hub as JSON; checked again all the same, as everything read from the store is.
  const parsed = ConnectRequest.safeParse(parseJson(stored));
  return parsed.success ? parsed.data : 'ticket unknown, used or expired';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function start(
  res: HttpResponse,
  context: SseRouteContext,
  remoteAddress: string,
  forwarded: ReturnType<typeof forwardedOf>,
  connect: ConnectRequest,
  channels: readonly string[],
): void {
  const { node, streams } = context;
  const key = randomBytes(18).toString('base64url');
  const socket = new SseClientSocket(
    res,
    streams,
    remoteAddress,
    key,
    node.config.limits.maxBackpressureBytes * 2,
    forwarded,
  );
  const session = new Session(socket, node, context.dispatch, context.serial());
  socket.session = session;
  res.onAborted(() => socket.aborted());
  res.cork(() => {
    res
      .writeStatus('200 OK')
      .writeHeader('content-type', 'text/event-stream')
      .writeHeader('cache-control', 'no-store')
      // Tells buffering proxies (nginx) to pass each event on as it comes.
      .writeHeader('x-accel-buffering', 'no')
      .write(namedEvent('stream', { client: session.id, key }));
  });
  node.limits.perIp.opened(remoteAddress);
  streams.add(session, socket);
  context.onSession(session);
  if (channels.length > 0) {
    // Through the client's own `sub` path: the URL's channels are authorized like any subscribe.
    socket.afterConnect = () => {
      channels.forEach((channel, index) => {
        session.onMessage(Buffer.from(JSON.stringify({ t: 'sub', id: connect.id + index + 1, ch: channel })));
      });
    };
  }
  try {
    session.onMessage(Buffer.from(JSON.stringify(connect)));
  } catch (error) {
    node.log.error({ err: error, session: session.id }, 'frame handling failed');
    session.close(CloseCode.INTERNAL, 'internal error');
  }
}

/**
 * A client's frames for its stream: run here when this hub holds it, else sent over the control
 * bus to the hub named in the connection id, which runs them and answers. 202 once the stream's
 * session took them (its replies come on the stream), 404 when no hub holds such a stream.
 */
async function command(res: HttpResponse, context: SseRouteContext) {
  const { node } = context;
  const body = await readBody(res, node.config.limits.maxHttpBodyBytes);
  if (!body.ok) {
    if (body.tooLarge) respondError(res, '413 Content Too Large', 'body over limits.maxHttpBodyBytes');
    return;
  }
  let parsed: ReturnType<typeof CommandPost.safeParse>;
  try {
    parsed = CommandPost.safeParse(JSON.parse(body.body.toString('utf8')));
  } catch {
    return respondError(res, '400 Bad Request', 'the body is not JSON');
  }
  if (!parsed.success) {
    return respondError(
      res,
      '400 Bad Request',
      `expected {"s": client id, "k": key, "f": [frames, at most ${MAX_FRAMES_PER_POST}]}`,
    );
  }
  const { s: client, k: key, f: frames } = parsed.data;
  const hub = client.slice(0, client.lastIndexOf('.'));
  const route = hub === node.id ? 'local' : 'forwarded';
  const status =
    route === 'local' ? local(context, client, key, frames) : await forward(context, hub, client, key, frames);
  node.metrics.sseCommand(route, Number(status.slice(0, 3)));
  if (status.startsWith('202')) respondJson(res, status, { taken: frames.length });
  else if (status.startsWith('404')) respondError(res, status, 'no such stream: open a new one');
  else respondError(res, status, "the stream's hub did not answer; retry");
}

function local(context: SseRouteContext, client: string, key: string, frames: readonly unknown[]): string {
  return context.streams.deliver(client, key, frames) ? '202 Accepted' : '404 Not Found';
}

async function forward(
  context: SseRouteContext,
  hub: string,
  client: string,
  key: string,
  frames: unknown[],
): Promise<string> {
  const answers = await context.control.ask({ c: 'frames', client, key, frames }, FORWARD_DEADLINE_MS, hub);
  if (answers.answers.some(({ answer }) => 'count' in answer && answer.count > 0)) return '202 Accepted';
  if (answers.missing.length > 0 || answers.failed.length > 0) return '503 Service Unavailable';
  return '404 Not Found';
}
