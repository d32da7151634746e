import { connect } from './connect.js';
import { ping } from './ping.js';
import { publish } from './publish.js';
import { refresh } from './refresh.js';
import { subscribe } from './subscribe.js';
import type { HandlerTable } from './types.js';
import { unsubscribe } from './unsubscribe.js';

export const handlers: HandlerTable = { connect, sub: subscribe, unsub: unsubscribe, pub: publish, refresh, ping };
