import type { ClientFrame } from '@switchboard/protocol';
import type { Dispatch, Session } from '../session/session.js';
import { connect } from './connect.js';
import { ping } from './ping.js';
import { presence, presenceStats } from './presence.js';
import { publish } from './publish.js';
import { refresh } from './refresh.js';
import { rpc } from './rpc.js';
import { subscribe } from './subscribe.js';
import type { HandlerTable } from './types.js';
import { unsubscribe } from './unsubscribe.js';

export const handlers: HandlerTable = {
  connect,
  sub: subscribe,
  unsub: unsubscribe,
  pub: publish,
  refresh,
  ping,
  presence,
  presence_stats: presenceStats,
  rpc,
};

/** Routes each frame to the handler of its type; the table's type guarantees the match. */
export const dispatch: Dispatch = (session, frame) => {
  const handler = handlers[frame.t] as (session: Session, frame: ClientFrame) => ReturnType<Dispatch>;
  return handler(session, frame);
};
