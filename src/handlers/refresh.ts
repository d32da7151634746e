import type { RefreshRequest } from '@switchboard/protocol';
import type { Handler } from './types.js';

/** Without authentication configured, connections do not expire, so a refresh has nothing to renew. */
export const refresh: Handler<RefreshRequest> = async () => undefined;
