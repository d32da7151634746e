import { ErrorCode, encodeData, type PublishRequest, type PublishResult } from '@switchboard/protocol';
import { HubError, notAvailable } from '../errors.js';
import type { Handler } from './types.js';

export const publish: Handler<PublishRequest> = async (session, { ch, d }) => {
  const { node } = session;
  const namespace = node.namespaces.of(ch);
  if (!namespace.settings.clientPublish) {
    throw new HubError(
      ErrorCode.PERMISSION_DENIED,
      `clients may not publish to namespace ${JSON.stringify(namespace.name)}`,
    );
  }
  if (!node.broker.isReady()) throw notAvailable('broker');
  const data = encodeData(d);
  let position: Awaited<ReturnType<typeof node.broker.publish>>;
  try {
    position = await node.broker.publish(ch, data, namespace.history);
  } catch {
    throw notAvailable('broker');
  }
  const result: PublishResult = { ep: position.ep, off: position.off };
  return result;
};
