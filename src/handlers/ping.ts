import type { PingRequest } from '@switchboard/protocol';
import type { Handler } from './types.js';

export const ping: Handler<PingRequest> = async () => undefined;
