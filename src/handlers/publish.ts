import { ErrorCode, encodeData, type PublishRequest, type PublishResult } from '@switchboard/protocol';
import { HubError, notAvailable } from '../errors.js';
import type { Session } from '../session.js';
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
  node.auth.authorizePublish(session, ch);
  node.limits.payloads.check(namespace.name, d);
  const egress = node.bridges.egress(namespace.name);
  if (egress) {
    await egress
      .send({ channel: ch, json: JSON.stringify(d), connection: session.id, timestamp: Date.now() })
      .catch((error: unknown) => failed(session, 'egress', error));
    return {};
  }
  if (!node.broker.isReady()) throw notAvailable('broker');
  const data = encodeData(d);
  const position = await node.broker
    .publish(ch, data, namespace.history)
    .catch((error: unknown) => failed(session, 'broker', error));
  const result: PublishResult = { ep: position.ep, off: position.off };
  return result;
};

function failed(session: Session, target: string, error: unknown): never {
  session.node.log.warn({ err: (error as Error).message, target }, 'client publish not accepted');
  throw notAvailable(target);
}
