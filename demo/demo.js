// The demo application: a live operations board fed by the hub's simulated services, beside a
// chat room, all on one connection (one WebSocket for every tab, through the SDK's SharedWorker).
import { connect } from '/switchboard.js';
import { defineBoard } from './board.js';
import { defineChat } from './chat.js';
import { trackPresence } from './presence.js';
import { clock } from './status.js';

const params = new URLSearchParams(location.search);
const shareAcrossTabs = params.get('share') !== '0';
const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const connection = connect(url, { shareAcrossTabs, name: 'demo' });
const $ = (id) => document.getElementById(id);

const STATE_TEXT = { idle: 'idle', connecting: 'connecting…', connected: 'connected', closed: 'closed' };
function showState(state) {
  $('state').textContent = STATE_TEXT[state] ?? state;
  $('state').dataset.state = state;
}
connection.on('state', showState);
showState(connection.state);
connection.on('connected', (result) => {
  if (result?.node) $('hub').textContent = result.node;
  // How the connection reaches the hub (a tab sharing the worker's hears it from the worker).
  const over = connection.transport === 'sse' ? 'HTTP stream (WebSockets are blocked here)' : 'WebSocket';
  $('transport').textContent = shared ? `one ${over} shared by all tabs (SharedWorker)` : `this tab’s own ${over}`;
});
connection.on('disconnected', ({ code }) => {
  $('recovery').textContent = `Connection lost at ${clock(Date.now())} (close code ${code}); reconnecting…`;
  $('recovery').dataset.kind = 'subscribing';
});

const shared = shareAcrossTabs && typeof SharedWorker === 'function';
$('transport').textContent = shared ? 'one WebSocket shared by all tabs (SharedWorker)' : 'this tab’s own WebSocket';
$('another').href = location.href;

defineBoard();
defineChat();
const add = (parent, tag, attributes) => {
  const element = document.createElement(tag);
  element.connection = connection;
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  $(parent).append(element);
  return element;
};
add('board', 'orders-card', { channel: 'demo:orders', heading: 'Checkout · orders' });
add('board', 'latency-card', { channel: 'demo:latency', heading: 'Gateway · latency' });
add('board', 'alerts-card', { channel: 'demo:alerts', heading: 'Alerts' });
const chat = add('chat', 'chat-room', { channel: 'demo:chat' });
trackPresence($('presence'), chat.subscription);

// One line for the whole page after a reconnection: what every channel recovered, or not.
const channels = new Map();
document.addEventListener('recovery', ({ detail }) => {
  channels.set(detail.channel, detail);
  const states = [...channels.values()];
  if (!states.some((s) => s.kind === 'recovered' || s.kind === 'lost')) return;
  if (states.some((s) => s.kind === 'subscribing')) return;
  const missed = states.reduce((sum, s) => sum + (s.kind === 'recovered' ? s.missed : 0), 0);
  const replayed = states.reduce((sum, s) => sum + (s.kind === 'recovered' ? s.replayed : 0), 0);
  const lost = states.filter((s) => s.kind === 'lost').map((s) => s.channel);
  $('recovery').dataset.kind = lost.length > 0 ? 'lost' : 'recovered';
  $('recovery').textContent =
    lost.length > 0
      ? `Reconnected at ${clock(Date.now())}: ${lost.join(', ')} could not be recovered; the rest missed ${missed}, replayed ${replayed}.`
      : `Reconnected at ${clock(Date.now())}: every channel recovered: missed ${missed}, replayed ${replayed}.`;
});

// The hub's own count of WebSockets: with tabs sharing, it stays at 1 however many are open.
async function pollStats() {
  try {
    const response = await fetch('/api/stats', { cache: 'no-store' });
    $('connections').textContent = String((await response.json()).connections);
  } catch {
    $('connections').textContent = 'hub unreachable';
  }
  setTimeout(pollStats, 1000);
}
pollStats();
