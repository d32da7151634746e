import { ErrorCode, encodeData, type PublishRequest, type PublishResult } from '@switchboard/protocol';
import { OutcomeUnknown } from '../bridges/egress.js';
import { HubError, notAvailable } from '../errors.js';
import { recentPublishesOf } from '../session/recent-publishes.js';
import type { Session } from '../session/session.js';
import { within } from '../time.js';
import { SpanKind, traced } from '../tracing.js';
import type { Handler } from './types.js';

/**
 * A client publish goes to its namespace's egress when it has one (the services consume it
 * there), else to the broker (subscribers get it directly). Either way the ack comes only once
 * the target accepted it. A target that refused answers with temporary error 108; one that did
 * not answer in time with 115, "outcome unknown": the client retries with the same `key`, and a
 * retry on this connection waits for the first attempt's answer instead of sending again.
 */
export const publish: Handler<PublishRequest> = async (session, { ch, d, key }) => {
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
  await node.proxy.publish(session.principal, session.id, ch, d);
  const egress = node.bridges.egress(namespace.name) !== undefined;
  const target = egress ? 'egress' : 'broker';
  const recent = key === undefined ? undefined : recentPublishesOf(session);
  const earlier = key === undefined ? undefined : recent?.get(key);
  if (earlier) {
    const waitMs = node.config.kafka?.produceTimeoutMs ?? 10_000;
    const settled = await within(earlier, waitMs, () => new OutcomeUnknown('still no answer', earlier)).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    if ('result' in settled) {
      node.metrics.clientPublish(target, true);
      return settled.result;
    }
    // Refused: remember() forgot it, and the publish is sent anew below. Unknown: still unknown.
    if (settled.error instanceof OutcomeUnknown) failed(session, target, settled.error);
  }
  const sent = send(session, ch, d, key);
  if (key !== undefined)
    recent?.remember(
      key,
      sent.catch((error: unknown) =>
        error instanceof OutcomeUnknown ? error.pending.then((): PublishResult => ({})) : Promise.reject(error),
      ),
    );
  const result = await sent.catch((error: unknown) => failed(session, target, error));
  node.metrics.clientPublish(target, true);
  return result;
};

/** One attempt at the namespace's target; rejects with OutcomeUnknown when the target did not answer in time. */
async function send(session: Session, ch: string, d: unknown, key: string | undefined): Promise<PublishResult> {
  const { node } = session;
  const namespace = node.namespaces.of(ch);
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
        key,
      };
      return egress.send(message);
    });
    return {};
  }
  if (!node.broker.isReady()) throw new Error('not ready');
  const data = withinFrameLimit(encodeData(d), limit);
  const position = await traced('switchboard.publish client', SpanKind.SERVER, undefined, attributes, (trace) =>
    node.broker.publish(ch, data, namespace.history, { trace }),
  );
  return { ep: position.ep, off: position.off };
}

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
  if (error instanceof HubError) throw error;
  session.node.metrics.clientPublish(target, false);
  session.node.log.warn({ err: (error as Error).message, target }, 'client publish not accepted');
  if (error instanceof OutcomeUnknown)
    throw new HubError(
      ErrorCode.OUTCOME_UNKNOWN,
      `${target} did not answer in time; it may still accept the publish: retry with the same key`,
    );
  throw notAvailable(target);
}
