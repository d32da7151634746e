import type { ClientFrame, CommandType } from '@switchboard/protocol';
import type { REPLIED, Session } from '../session/session.js';

/** A command handler resolves with the reply's result (REPLIED when it answered itself), or rejects with a HubError. */
export type Handler<T extends ClientFrame> = (
  session: Session,
  frame: T,
) => Promise<object | undefined | typeof REPLIED>;

export type HandlerTable = { readonly [K in CommandType]: Handler<Extract<ClientFrame, { t: K }>> };
