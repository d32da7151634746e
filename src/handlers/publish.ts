import { ErrorCode, encodeData, type PublishRequest, type PublishResult } from '@switchboard/protocol';
import { HubError, notAvailable } from '../errors.js';
import type { Session } from '../session/session.js';
import { SpanKind, traced } from '../tracing.js';
import type { Handler } from './types.js';

/**
 * A client publish goes to its namespace's egress when it has one (the services consume it
 * there), else to the broker (subscribers get it directly). Either way the ack comes only once
 * the target accepted it, and a target that is down answers with temporary error 108.
 */
export const publish: Handler<PublishRequest> = async (session, { ch, d }) => {
  const { node } = session;
  const namespace = node.namespaces.of(ch);
  if (!namespace.settings.clientPublish) {
    throw new HubError(
      ErrorCode.PERMISSION_DENIED,
      `clients may not publish to namespace ${JSON.stringify(namespace.name)}`,
    );
  }
  node.auth.authorizePublish(session.principal, ch);
  node.limits.payloads.check(namespace.name, d);
  const egress = node.bridges.egress(namespace.name);
  const attributes = { 'messaging.destination.name': ch, 'switchboard.connection': session.id };
  const limit = node.config.limits.maxFrameBytes;
  if (egress) {
    const json = withinFrameLimit(JSON.stringify(d), limit);
    await traced('switchboard.publish client', SpanKind.SERVER, undefined, attributes, (trace) => {
      const message = {
        channel: ch,
        json,
        connection: session.id,
        user: session.principal.sub,
        timestamp: Date.now(),
        trace,
      };
      return egress.send(message);
    }).catch((error: unknown) => failed(session, 'egress', error));
    node.metrics.clientPublish('egress', true);
    return {};
  }
  if (!node.broker.isReady()) failed(session, 'broker', new Error('not ready'));
  const data = withinFrameLimit(encodeData(d), limit);
  const position = await traced('switchboard.publish client', SpanKind.SERVER, undefined, attributes, (trace) =>
    node.broker.publish(ch, data, namespace.history, { trace }),
  ).catch((error: unknown) => failed(session, 'broker', error));
  node.metrics.clientPublish('broker', true);
  const result: PublishResult = { ep: position.ep, off: position.off };
  return result;
};

/**
 * Data re-encoded for the broker or the egress stays within the frame limit it arrived under
 * (protocol §5): the decoders build no shared parts, so this holds for every well-formed frame,
 * and it is checked here so that nothing larger can ever reach a broker.
 */
function withinFrameLimit<T extends string | Uint8Array>(encoded: T, limit: number): T {
  const size = typeof encoded === 'string' ? Buffer.byteLength(encoded) : encoded.byteLength;
  if (size > limit)
    throw new HubError(ErrorCode.BAD_REQUEST, `d: ${size} bytes once encoded, over the frame limit of ${limit}`);
  return encoded;
}

function failed(session: Session, target: 'broker' | 'egress', error: unknown): never {
  session.node.metrics.clientPublish(target, false);
  session.node.log.warn({ err: (error as Error).message, target }, 'client publish not accepted');
  throw notAvailable(target);
}
