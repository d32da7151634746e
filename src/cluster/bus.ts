/**
 * The control bus: how hubs reach each other (src/cluster/control.ts carries the server API's
 * commands on it). Messages are at most once: one lost on the way shows as a hub that did not
 * answer in time, which every answer reports (never a silent partial answer).
 */
export interface ControlBus {
  /** Starts delivering what is broadcast and what is sent to hub `hubId` (this one) to `handler`. */
  start(hubId: string, handler: (message: string) => void): Promise<void>;
  /** To every live hub, this one included. */
  broadcast(message: string): Promise<void>;
  /** To hub `hub` only. */
  send(hub: string, message: string): Promise<void>;
  /** The hubs alive now, this one included: the ones a broadcast is expected to reach. */
  hubs(): Promise<readonly string[]>;
  close(): Promise<void>;
}

/** The embedded broker's bus: one hub, which hears itself. */
export class MemoryBus implements ControlBus {
  private hubId = '';
  private handler: ((message: string) => void) | undefined;

  async start(hubId: string, handler: (message: string) => void): Promise<void> {
    this.hubId = hubId;
    this.handler = handler;
  }

  async broadcast(message: string): Promise<void> {
    this.deliver(message);
  }

  async send(hub: string, message: string): Promise<void> {
    if (hub === this.hubId) this.deliver(message);
  }

  async hubs(): Promise<readonly string[]> {
    return [this.hubId];
  }

  async close(): Promise<void> {
    this.handler = undefined;
  }

  /** On the next turn, as a real bus would: a sender never runs its receiver's work inside its own. */
  private deliver(message: string): void {
    setImmediate(() => this.handler?.(message));
  }
}
