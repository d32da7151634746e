/**
 * What every entry of the SDK exports: the Node package (index.ts) and the browser bundle
 * (browser.ts), which add the pieces only they carry.
 */
export { CloseCode, ErrorCode } from '@switchboard/protocol';
export { Client } from './client.js';
export { type ConnectOptions, connect } from './connect.js';
export { ClientErrorCode, SwitchboardError } from './errors.js';
export type { Dial, Link, LinkEvents, LinkFrame } from './link.js';
export { shared } from './shared.js';
export { Subscription } from './subscription.js';
export type {
  BackoffOptions,
  ClientEvents,
  ClientOptions,
  ClientState,
  ConnectResult,
  DisconnectedEvent,
  Position,
  PresenceChange,
  PresenceMember,
  PresenceStats,
  Publication,
  PublishOptions,
  PublishResult,
  RpcOptions,
  SubscribedEvent,
  SubscribeOptions,
  SubscriptionEvents,
  SubscriptionState,
  UnsubscribedEvent,
  WebSocketConstructor,
  WebSocketLike,
  WireFormat,
} from './types.js';
