import { connect } from './connect.js';
import type { Subscription } from './subscription.js';
import type { Publication } from './types.js';

// Lets this module load where there is no DOM (Node, the type checker's tests); it only works in one.
const Base = (globalThis.HTMLElement ?? class {}) as typeof HTMLElement;

const STYLE = `
:host { display: block; font: 14px/1.4 system-ui, sans-serif; border: 1px solid #d0d7de; border-radius: 8px;
  padding: 10px 12px; background: #fff; min-width: 14em; }
header { display: flex; justify-content: space-between; gap: 1em; margin-bottom: 6px; }
.channel { font-weight: 600; }
.state { font-size: 12px; color: #57606a; }
.state[data-state='subscribed'] { color: #1a7f37; }
.state[data-state='gap'] { color: #9a6700; }
ol { list-style: none; margin: 0; padding: 0; }
li { display: flex; gap: .6em; padding: 2px 0; border-top: 1px solid #f0f0f0; overflow-wrap: anywhere; }
li code { color: #57606a; min-width: 2.5em; }
.empty { color: #8c959f; font-style: italic; }
`;

/**
 * `<switchboard-feed channel="news" url="wss://…/ws" limit="10">`: the last `limit` publications
 * of one channel. Every feed of a page asking for the same URL shares one connection (`connect`,
 * shared across tabs where SharedWorker exists). Removing the element releases its subscription
 * and nothing else: the connection stays for the page's other users.
 */
export class SwitchboardFeed extends Base {
  static readonly observedAttributes = ['channel', 'url', 'limit'];
  private subscription: Subscription | undefined;
  /** Removes this element's listener on the shared connection. */
  private unlisten: (() => void) | undefined;
  private recent: Publication[] = [];
  private readonly heading: HTMLElement;
  private readonly status: HTMLElement;
  private readonly list: HTMLOListElement;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${STYLE}</style><header><span class="channel"></span><span class="state"></span></header><ol></ol>`;
    this.heading = root.querySelector('.channel') as HTMLElement;
    this.status = root.querySelector('.state') as HTMLElement;
    this.list = root.querySelector('ol') as HTMLOListElement;
  }

  /** The publications shown, newest first. */
  get items(): readonly Publication[] {
    return this.recent;
  }

  get channel(): string | null {
    return this.getAttribute('channel');
  }

  connectedCallback(): void {
    if (!this.subscription) this.start();
  }

  disconnectedCallback(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.unlisten?.();
    this.unlisten = undefined;
  }

  attributeChangedCallback(_name: string, previous: string | null, next: string | null): void {
    // Before connectedCallback (while the element is created) there is nothing to restart.
    if (this.subscription && previous !== next) this.start();
  }

  private start(): void {
    this.disconnectedCallback();
    this.recent = [];
    this.render();
    const channel = this.channel;
    this.heading.textContent = channel ?? '(no channel)';
    if (!channel) {
      this.show('unsubscribed', 'set the channel attribute');
      return;
    }
    const connection = connect(this.getAttribute('url') ?? defaultUrl(), { shareAcrossTabs: true });
    const subscription = connection.subscribe(channel);
    this.subscription = subscription;
    this.show('subscribing', 'subscribing…');
    // Not recovered: what was published while away may be missing here (the reason says why).
    subscription.on('subscribed', (event) => {
      if (event.recovered === false) this.show('gap', 'live, not recovered', event.reason);
      else this.show('subscribed', 'live');
    });
    subscription.on('error', (error) => this.show('subscribing', `retrying: ${error.message}`));
    subscription.on('unsubscribed', (event) => this.show('unsubscribed', `ended: ${event.reason}`));
    subscription.on('publication', (publication) => {
      this.recent = [publication, ...this.recent].slice(0, this.limit());
      this.render();
    });
    this.unlisten = connection.on('disconnected', () => this.show('subscribing', 'reconnecting…'));
  }

  private limit(): number {
    const limit = Number(this.getAttribute('limit') ?? 10);
    return Number.isInteger(limit) && limit > 0 ? limit : 10;
  }

  private show(state: string, text: string, detail = ''): void {
    this.status.dataset.state = state;
    this.status.textContent = text;
    this.status.title = detail;
  }

  /** Text nodes only: publication data is whatever anyone published, never markup. */
  private render(): void {
    const rows = this.recent.map((publication) => {
      const row = document.createElement('li');
      const offset = document.createElement('code');
      offset.textContent = publication.position ? `#${publication.position.off}` : '·';
      const data = document.createElement('span');
      data.textContent = JSON.stringify(publication.data);
      row.append(offset, data);
      return row;
    });
    if (rows.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'empty';
      empty.textContent = 'nothing yet';
      rows.push(empty);
    }
    this.list.replaceChildren(...rows);
  }
}

/** The hub that served this page: `/ws` on the same host. */
function defaultUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

/** Defines `<switchboard-feed>` (or `name`) once, however many scripts of the page ask. */
export function defineFeed(name = 'switchboard-feed'): void {
  if (!customElements.get(name)) customElements.define(name, class extends SwitchboardFeed {});
}
