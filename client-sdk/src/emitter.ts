type Listener<T> = (value: T) => void;

/** A minimal typed event emitter that works the same in browsers and Node. */
export class Emitter<Events extends object> {
  private readonly listeners: { [K in keyof Events]?: Set<Listener<Events[K]>> } = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners[event];
    if (!set) {
      set = new Set();
      this.listeners[event] = set;
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners[event]?.delete(listener);
  }

  protected emit<K extends keyof Events>(event: K, value: Events[K]): void {
    const set = this.listeners[event];
    if (!set) return;
    for (const listener of set) {
      try {
        listener(value);
      } catch (error) {
        // Like DOM event handlers: a throwing listener is reported, but neither stops the other
        // listeners nor leaves the client's own state half-updated.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
