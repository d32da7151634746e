// The operations board: one card per feed of the simulated services (src/demo), each a web
// component on the page's one connection. A card shows its numbers, a sparkline, when it last
// heard from the feed, and what its channel went through (live, recovered, not recovered).
import { ago, badgeText, clock, describeReason, trackRecovery } from './status.js';

const SVG = 'http://www.w3.org/2000/svg';
const money = new Intl.NumberFormat('en', { style: 'currency', currency: 'EUR' });

/** `<spark-line>`: the last values as a small line chart; `values` is set by its card. */
class SparkLine extends HTMLElement {
  set values(values) {
    const width = 240;
    const height = 44;
    const max = Math.max(1, ...values);
    const step = values.length > 1 ? width / (values.length - 1) : width;
    const points = values.map(
      (v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 6)).toFixed(1)}`,
    );
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('aria-hidden', 'true');
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', points.join(' '));
    const area = document.createElementNS(SVG, 'polygon');
    area.setAttribute('points', `0,${height} ${points.join(' ')} ${width},${height}`);
    area.setAttribute('class', 'area');
    svg.append(area, line);
    this.replaceChildren(svg);
  }
}

/** Counts per second over the last `seconds`, for rates and sparklines. */
class PerSecond {
  constructor(seconds) {
    this.seconds = seconds;
    this.buckets = new Map();
  }
  add(at = Date.now()) {
    const second = Math.floor(at / 1000);
    this.buckets.set(second, (this.buckets.get(second) ?? 0) + 1);
  }
  /** Counts of the last `seconds` whole seconds, oldest first. */
  series(now = Date.now()) {
    const current = Math.floor(now / 1000);
    for (const second of this.buckets.keys()) if (second < current - this.seconds) this.buckets.delete(second);
    return Array.from({ length: this.seconds }, (_, i) => this.buckets.get(current - this.seconds + i) ?? 0);
  }
}

/**
 * A card for one channel. Subclasses fill `.body` in `show(data, publication)` and may redraw
 * on `tick()` (once a second). Set `connection` before adding it to the page.
 */
class FeedCard extends HTMLElement {
  connectedCallback() {
    const channel = this.getAttribute('channel');
    const title = this.getAttribute('heading');
    this.setAttribute('role', 'region');
    this.setAttribute('aria-label', title);
    this.innerHTML = `<header><h2></h2><span class="badge" role="status"></span></header>
      <div class="body"></div>
      <footer><code class="channel"></code><span class="heard">waiting for the first publication…</span></footer>`;
    this.querySelector('h2').textContent = title;
    this.querySelector('.channel').textContent = channel;
    this.body = this.querySelector('.body');
    this.badge = this.querySelector('.badge');
    this.heard = this.querySelector('.heard');
    this.setup?.();
    this.subscription = this.connection.subscribe(channel);
    trackRecovery(this.subscription, (state) => this.showState(state));
    this.subscription.on('publication', (publication) => {
      this.lastAt = publication.data?.at ?? Date.now();
      this.lastOffset = publication.position?.off;
      if (this.lastOffset !== undefined) this.dataset.lastOffset = String(this.lastOffset);
      this.show(publication.data, publication);
      this.tick();
    });
    this.offDisconnect = this.connection.on('disconnected', () => {
      this.badge.textContent = 'reconnecting…';
      this.badge.dataset.kind = 'subscribing';
    });
    this.timer = setInterval(() => this.tick(), 1000);
  }

  disconnectedCallback() {
    clearInterval(this.timer);
    this.offDisconnect?.();
    this.subscription?.unsubscribe();
  }

  showState(state) {
    this.state = state;
    this.badge.textContent = badgeText(state);
    this.badge.dataset.kind = state.kind;
    this.badge.title = state.kind === 'lost' ? describeReason(state.reason) : '';
    this.dispatchEvent(
      new CustomEvent('recovery', { bubbles: true, detail: { channel: this.getAttribute('channel'), ...state } }),
    );
  }

  tick() {
    if (this.lastAt === undefined) return;
    const offset = this.lastOffset === undefined ? '' : ` · #${this.lastOffset}`;
    this.heard.textContent = `last ${clock(this.lastAt)} (${ago(this.lastAt)})${offset}`;
    this.redraw?.();
  }
}

/** Orders from the checkout service: orders per minute, a sparkline per second, the last order. */
class OrdersCard extends FeedCard {
  setup() {
    this.counts = new PerSecond(60);
    this.body.innerHTML = `<p class="figure"><b class="rate">0</b> orders/min</p><spark-line></spark-line>
      <p class="detail">no order yet</p>`;
  }
  show(order) {
    this.counts.add(order.at);
    this.body.querySelector('.detail').textContent =
      `${order.id} · ${money.format(order.amount)} · ${order.region} · ${clock(order.at)}`;
  }
  redraw() {
    const series = this.counts.series();
    const lastTen = series.slice(-10).reduce((a, b) => a + b, 0);
    this.body.querySelector('.rate').textContent = String(lastTen * 6);
    this.body.querySelector('spark-line').values = series;
  }
}

/** Gateway latency, once a second: p99 and p50, requests per second, p99 over the last minute. */
class LatencyCard extends FeedCard {
  setup() {
    this.samples = [];
    this.body.innerHTML = `<p class="figure"><b class="p99">–</b> ms p99</p><spark-line></spark-line>
      <p class="detail">no sample yet</p>`;
  }
  show(sample) {
    this.samples = [...this.samples, sample.p99].slice(-60);
    this.body.querySelector('.p99').textContent = String(sample.p99);
    this.body.querySelector('.detail').textContent = `p50 ${sample.p50} ms · ${sample.rps} requests/s`;
    this.body.querySelector('spark-line').values = this.samples;
  }
}

/** Alerts, newest first: level (in words, not only colour), service, message and time. */
class AlertsCard extends FeedCard {
  setup() {
    this.recent = [];
    this.body.innerHTML = '<ol class="alerts"><li class="empty">no alert yet</li></ol>';
  }
  show(alert) {
    this.recent = [alert, ...this.recent].slice(0, 5);
    const rows = this.recent.map((a) => {
      const row = document.createElement('li');
      const level = document.createElement('span');
      level.className = `level ${a.level}`;
      level.textContent = a.level;
      const text = document.createElement('span');
      text.textContent = `${a.service}: ${a.message}`;
      const time = document.createElement('time');
      time.dateTime = new Date(a.at).toISOString();
      time.textContent = clock(a.at);
      row.append(level, text, time);
      return row;
    });
    this.body.querySelector('.alerts').replaceChildren(...rows);
  }
}

export function defineBoard() {
  customElements.define('spark-line', SparkLine);
  customElements.define('orders-card', OrdersCard);
  customElements.define('latency-card', LatencyCard);
  customElements.define('alerts-card', AlertsCard);
}
