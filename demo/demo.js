// The demo page's script: feeds for the channels in ?channels=, a publish box, the connection's
// state and the hub's own count of WebSockets.
import { connect, defineFeed } from '/switchboard.js';

const params = new URLSearchParams(location.search);
const channels = (params.get('channels') ?? 'news,sport,weather')
  .split(',')
  .map((channel) => channel.trim())
  .filter(Boolean);
const shareAcrossTabs = params.get('share') !== '0';
const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;

// Connect before the feeds exist: they ask for the same URL and get this connection, so the
// mode chosen here (shared across tabs or not) is theirs too.
const connection = connect(url, { shareAcrossTabs, name: 'demo' });
defineFeed();

const $ = (id) => document.getElementById(id);
const showState = (state) => {
  $('state').textContent = state;
  $('state').dataset.state = state;
};
connection.on('state', showState);
showState(connection.state);
$('mode').textContent =
  shareAcrossTabs && typeof SharedWorker === 'function' ? 'shared by all tabs (SharedWorker)' : 'this tab only';
$('another').href = location.href;

for (const channel of channels) {
  const feed = document.createElement('switchboard-feed');
  feed.setAttribute('channel', channel);
  $('feeds').append(feed);
  $('channel').append(new Option(channel, channel));
}

$('publish').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('data').value.trim();
  let data = text;
  try {
    data = JSON.parse(text);
  } catch {
    // Not JSON: publish the text as a string.
  }
  $('ack').textContent = 'publishing…';
  try {
    const result = await connection.publish($('channel').value, data);
    $('ack').textContent = `published at #${result.off}`;
    $('data').value = '';
  } catch (error) {
    $('ack').textContent = `refused: ${error.message}`;
  }
});

async function pollStats() {
  try {
    const response = await fetch('/api/stats', { cache: 'no-store' });
    const stats = await response.json();
    $('connections').textContent = String(stats.connections);
  } catch {
    $('connections').textContent = 'hub unreachable';
  }
  setTimeout(pollStats, 1000);
}
pollStats();
