import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { readBody, refuseOversizedBody } from '../http/body.js';
import { issueText } from '../http/issue-text.js';
import { isAborted, respondError, respondJson, trackAbort } from '../http/respond.js';
import { normalizeAddress } from '../limits/address.js';
import type { Logger } from '../log.js';
import { type ApiContext, ApiError, type CallContext, METHODS, type MethodName } from './methods.js';
import { openApiDocument } from './openapi.js';

type RouteHandler = (res: HttpResponse, req: HttpRequest) => void;

/** Who may call: the refusal for a request's `authorization` header from `peer`, or undefined. */
export interface CallerCheck {
  check(authorization: string, peer: string): { readonly status: string; readonly reason: string } | undefined;
}

export interface ApiRoutes {
  readonly access: CallerCheck;
  /** Where the methods are served: `/api` (services), or `/admin/api` (the admin view, behind its own door). */
  readonly prefix?: '/api' | '/admin/api';
  readonly maxBodyBytes: number;
  readonly log: Logger;
  /** Counts each call by method and status. */
  readonly called: (method: string, status: number) => void;
  /** Wraps a route (the header-size guard of src/transport/server.ts). */
  readonly route: (handler: RouteHandler) => RouteHandler;
}

const isMethod = (name: string): name is MethodName => Object.hasOwn(METHODS, name);
const statusCode = (status: string) => Number(status.slice(0, 3));

/**
 * The server API: `POST /api/<method>` with a JSON body, checked against the method's schema,
 * for callers with the API key (or, without one, on this machine); `GET /api/openapi.json`
 * describes it. Every refusal is an HTTP status with a reason.
 */
export function registerApi(app: TemplatedApp, api: ApiContext, routes: ApiRoutes): void {
  const prefix = routes.prefix ?? '/api';
  if (prefix === '/api') registerDocument(app, routes);
  // Another HTTP method on a method's path is a caller's mistake worth naming, not a missing route.
  app.any(
    `${prefix}/:method`,
    routes.route((res, req) => {
      const name = req.getParameter(0) ?? '';
      if (!isMethod(name)) return respondError(res, '404 Not Found', 'no such route');
      routes.called(name, 405);
      res.cork(() => {
        res
          .writeStatus('405 Method Not Allowed')
          .writeHeader('allow', 'POST')
          .writeHeader('content-type', 'application/json')
          .end(JSON.stringify({ error: `${prefix}/${name} takes POST with a JSON body` }));
      });
    }),
  );
  app.post(
    `${prefix}/:method`,
    routes.route((res, req) => {
      const name = req.getParameter(0) ?? '';
      const answer = (status: string, body: object) => {
        routes.called(isMethod(name) ? name : 'unknown', statusCode(status));
        respondJson(res, status, body);
      };
      const peer = normalizeAddress(Buffer.from(res.getRemoteAddressAsText()).toString());
      const refused = routes.access.check(req.getHeader('authorization'), peer);
      if (refused) return answer(refused.status, { error: refused.reason });
      if (!isMethod(name)) {
        return answer('404 Not Found', {
          error: `no API method by that name; methods: ${Object.keys(METHODS).join(', ')}`,
        });
      }
      // Headers are only readable before the first await.
      const call: CallContext = {
        carrier: {
          traceparent: req.getHeader('traceparent') || undefined,
          tracestate: req.getHeader('tracestate') || undefined,
        },
      };
      if (refuseOversizedBody(res, req, routes.maxBodyBytes)) return;
      trackAbort(res);
      void handle(api, name, res, call, routes, answer).catch((error: unknown) => {
        routes.log.error({ err: error, method: name }, 'API call failed');
        answer('500 Internal Server Error', { error: 'internal error' });
      });
    }),
  );
}

/** `GET /api/openapi.json`: built on the first request, then served from memory. */
function registerDocument(app: TemplatedApp, routes: ApiRoutes): void {
  let document: Promise<string> | undefined;
  app.get(
    '/api/openapi.json',
    routes.route((res) => {
      trackAbort(res);
      document ??= openApiDocument();
      document.then(
        (text) => {
          if (isAborted(res)) return;
          res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', 'application/json').end(text));
        },
        (error: unknown) => {
          routes.log.error({ err: error }, 'OpenAPI document not built');
          respondError(res, '500 Internal Server Error', 'the OpenAPI document could not be built');
        },
      );
    }),
  );
}

async function handle(
  api: ApiContext,
  name: MethodName,
  res: HttpResponse,
  call: CallContext,
  routes: ApiRoutes,
  answer: (status: string, body: object) => void,
): Promise<void> {
  const read = await readBody(res, routes.maxBodyBytes);
  if (!read.ok) {
    if (read.tooLarge) answer('413 Payload Too Large', { error: `body over ${routes.maxBodyBytes} bytes` });
    return;
  }
  let json: unknown = {};
  if (read.body.byteLength > 0) {
    try {
      json = JSON.parse(read.body.toString('utf8'));
    } catch {
      return answer('400 Bad Request', { error: 'body is not valid JSON' });
    }
  }
  const method = METHODS[name];
  const parsed = method.request.safeParse(json);
  if (!parsed.success) {
    return answer('400 Bad Request', { error: issueText(parsed.error) });
  }
  try {
    // Each method's run takes its own request's output type; the table's union erases the link.
    const run = method.run as (api: ApiContext, body: unknown, call: CallContext) => Promise<object>;
    answer('200 OK', await run(api, parsed.data, call));
  } catch (error) {
    if (error instanceof ApiError) return answer(error.status, { error: error.message });
    throw error;
  }
}
