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
function rows(id, entries, empty, columns = 3) {
  const body = $(id);
  if (entries.length === 0) {
    const row = document.createElement('tr');
    const cell = document.createElement('td');
    cell.colSpan = columns;
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

/** The server API through the admin view's door (POST /admin/api/<method>): the answer, or throws its reason. */
async function call(method, body) {
  const response = await fetch(`/admin/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${answer.error}`);
  return answer;
}

const hubsText = ({ asked, answered, missing }) =>
  missing.length > 0
    ? `${answered} of ${asked} hubs answered (missing: ${missing.join(', ')})`
    : `${answered} of ${asked} hubs answered`;

async function refreshHubs() {
  try {
    const { hubs, answered } = await call('info', {});
    rows(
      'hub-rows',
      hubs.map((h) => [
        `${h.name} (${h.id})`,
        h.connections,
        h.subscriptions,
        h.channels,
        duration(h.uptimeSeconds * 1000),
        h.ready ? 'ready' : 'not ready',
      ]),
      'no hub answered',
      6,
    );
    $('hubs-note').textContent = `(${hubsText(answered)})`;
  } catch (error) {
    $('hubs-note').textContent = `(${error.message})`;
  }
  setTimeout(refreshHubs, 5 * REFRESH_MS);
}
refreshHubs();

/** Form fields that are filled, as an object. */
const fields = (form) => Object.fromEntries([...new FormData(form)].filter(([, value]) => value !== ''));

$('presence-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const { channel } = fields(event.target);
  try {
    const [{ clients, more }, stats] = await Promise.all([
      call('presence', { channel }),
      call('presence_stats', { channel }),
    ]);
    rows(
      'presence-rows',
      clients.map((c) => [c.client, c.user ?? '(anonymous)', c.info === undefined ? '' : JSON.stringify(c.info)]),
      'nobody',
      3,
    );
    $('presence-summary').textContent =
      `${stats.clients} connections, ${stats.users} users${more ? ' (list cut)' : ''}`;
  } catch (error) {
    rows('presence-rows', [], 'nothing to show', 3);
    $('presence-summary').textContent = error.message;
  }
});

const act = (id, method, body) =>
  $(id).addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const answer = await call(method, body(fields(event.target)));
      $('action-result').textContent =
        answer.connections === undefined
          ? `${method}: ${JSON.stringify(answer)}`
          : `${method}: ${answer.connections} connections, ${hubsText(answer.hubs)}`;
    } catch (error) {
      $('action-result').textContent = `${method}: ${error.message}`;
    }
  });
act('disconnect-form', 'disconnect', ({ user, client, stop }) => ({
  user,
  client,
  ...(stop ? { reconnect: false } : {}),
}));
act('unsubscribe-form', 'unsubscribe', ({ user, client, channel }) => ({ user, client, channel }));
act('publish-form', 'publish', ({ channel, data }) => {
  try {
    return { channel, data: JSON.parse(data) };
  } catch {
    throw new Error('the data is not valid JSON');
  }
});
