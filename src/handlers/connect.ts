import { type ConnectRequest, type ConnectResult, ErrorCode, PROTOCOL_VERSION } from '@switchboard/protocol';
import { HubError } from '../errors.js';
import type { Handler } from './types.js';

export const connect: Handler<ConnectRequest> = async (session) => {
  if (session.isConnected) throw new HubError(ErrorCode.ALREADY_CONNECTED, 'already connected');
  session.markConnected();
  const result: ConnectResult = {
    client: session.id,
    node: session.node.config.name,
    v: PROTOCOL_VERSION,
    ping: session.node.config.clientPingSeconds,
    maxFrame: session.node.config.limits.maxFrameBytes,
  };
  return result;
};
