import { ErrorCode, type RpcRequest } from '@switchboard/protocol';
import { HubError } from '../errors.js';
import type { Handler } from './types.js';

/**
 * A call to a service (src/rpc/): routed by method to a Kafka topic or an HTTP endpoint; the
 * reply is the service's. The call waits without blocking anything else, and ends with the
 * connection.
 */
export const rpc: Handler<RpcRequest> = async (session, { method, d }) => {
  const { node } = session;
  const size = Buffer.byteLength(JSON.stringify(d) ?? 'null');
  const limit = node.config.limits.maxFrameBytes;
  if (size > limit)
    throw new HubError(ErrorCode.BAD_REQUEST, `d: ${size} bytes once encoded, over the frame limit of ${limit}`);
  return node.rpc.call({ owner: session, connection: session.id, user: session.principal.sub }, method, d);
};
