export { CloseCode, ErrorCode } from '@switchboard/protocol';
export { Client } from './client.js';
export { type Connection, type ConnectOptions, connect } from './connect.js';
export { ClientErrorCode, SwitchboardError } from './errors.js';
export { shared } from './shared.js';
export { Subscription } from './subscription.js';
export { TabClient, type TabClientOptions } from './tab-client.js';
export type {
  BackoffOptions,
  ClientEvents,
  ClientOptions,
  ClientState,
  ConnectResult,
  DisconnectedEvent,
  Position,
  Publication,
  PublishResult,
  SubscribedEvent,
  SubscribeOptions,
  SubscriptionEvents,
  SubscriptionState,
  UnsubscribedEvent,
  WebSocketConstructor,
  WebSocketLike,
  WireFormat,
} from './types.js';
