// The admin page: polls GET /admin/api/snapshot once a second (src/admin/snapshot.ts says what
// it holds) and shows it. The browser sends the API key itself once asked (HTTP Basic).
const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const REFRESH_MS = 1_000;

function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Replaces a table body's rows; text nodes only, since channel names come from clients. */
function rows(id, entries, empty) {
  const body = $(id);
  if (entries.length === 0) {
    const row = document.createElement('tr');
    const cell = document.createElement('td');
    cell.colSpan = 3;
    cell.className = 'empty';
    cell.textContent = empty;
    row.append(cell);
    body.replaceChildren(row);
    return;
  }
  body.replaceChildren(
    ...entries.map((cells) => {
      const row = document.createElement('tr');
      cells.forEach((value, index) => {
        const cell = document.createElement('td');
        if (index > 0) cell.className = 'n';
        cell.textContent = typeof value === 'number' ? number.format(value) : value;
        row.append(cell);
      });
      return row;
    }),
  );
}

function show(snapshot) {
  const { node, connections, channels, fanout } = snapshot;
  $('name').textContent = node.name;
  $('broker').textContent = node.broker + (node.demo ? ' · demo services on' : '');
  $('uptime').textContent = duration(snapshot.takenAt - node.startedAt);
  const ready = node.notReady.length === 0;
  $('ready').dataset.ok = String(ready);
  $('ready').textContent = ready ? 'ready' : `not ready: ${node.notReady.join(', ')}`;
  $('connections').textContent = number.format(connections.open);
  $('subscriptions').textContent = number.format(connections.subscriptions);
  $('channels').textContent = number.format(channels.total);
  // Rates are differences between two snapshots a second apart: none yet on the first.
  const rate = (value) => (fanout.overSeconds > 0 ? number.format(value) : '…');
  $('publications').textContent = rate(fanout.publicationsPerSecond);
  $('deliveries').textContent = rate(fanout.deliveriesPerSecond);
  $('slow').textContent = number.format(snapshot.slowConsumerCloses);
  $('channels-note').textContent =
    channels.total > channels.top.length ? `(busiest ${channels.top.length} of ${channels.total})` : '';
  rows(
    'channel-rows',
    channels.top.map((c) => [c.channel, c.subscribers, rate(c.publicationsPerSecond)]),
    'no channel has subscribers here',
  );
  rows(
    'refusal-rows',
    Object.entries(snapshot.refusals).filter(([, n]) => n > 0),
    'nothing refused',
  );
  rows('close-rows', Object.entries(connections.closedByCode), 'no connection closed yet');
  rows(
    'kafka-rows',
    snapshot.kafkaLag.map((l) => [l.topic, l.partition, l.lag]),
    'no Kafka ingress on this hub',
  );
  $('updated').textContent = new Date(snapshot.takenAt).toLocaleTimeString();
  $('problem').textContent = '';
}

async function refresh() {
  try {
    const response = await fetch('/admin/api/snapshot', { cache: 'no-store' });
    if (!response.ok) {
      const { error } = await response.json().catch(() => ({ error: response.statusText }));
      $('problem').textContent = `HTTP ${response.status}: ${error}`;
    } else show(await response.json());
  } catch {
    $('problem').textContent = 'hub unreachable; retrying';
  }
  setTimeout(refresh, REFRESH_MS);
}
refresh();
