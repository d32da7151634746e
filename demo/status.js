// What each channel of the page went through: live, or after a reconnection recovered (how many
// publications it missed and how many the hub replayed) or not (why). The SDK's `subscribed`
// event says `recovered` and the channel's position then; comparing that position with the last
// one this page saw gives the count it missed.

/** Why history could not reach back, in words (the hub's reasons: src/brokers/broker.ts). */
const REASONS = {
  epoch_changed: 'the channel’s history restarted (a hub with in-memory history restarted)',
  trimmed: 'what was missed is older than the history kept',
  too_many_missed: 'more was missed than one resubscription replays',
  ahead_of_stream: 'this page was ahead of the hub’s history',
};

export const describeReason = (reason) => REASONS[reason] ?? reason ?? 'unknown reason';

/**
 * Follows one subscription. `onChange(state)` hears every change; `state` is
 * { kind: 'subscribing' | 'live' | 'recovered' | 'lost', missed, replayed, reason, position }.
 */
export function trackRecovery(subscription, onChange) {
  let last; // the position of the last publication shown
  let state = { kind: 'subscribing', missed: 0, replayed: 0 };
  let replayUpTo; // publications up to this offset, after a recovery, are the replay
  const set = (next) => {
    state = { ...state, ...next };
    onChange(state);
  };
  subscription.on('subscribed', ({ position, recovered, reason }) => {
    if (recovered === undefined) return set({ kind: 'live', position, missed: 0, replayed: 0 });
    if (!recovered) return set({ kind: 'lost', position, reason, missed: 0, replayed: 0 });
    const missed = last && last.ep === position.ep ? Math.max(0, position.off - last.off) : 0;
    replayUpTo = position.off;
    set({ kind: 'recovered', position, missed, replayed: 0, at: Date.now() });
  });
  subscription.on('publication', ({ position }) => {
    if (!position) return;
    const replayed = replayUpTo !== undefined && position.off <= replayUpTo;
    last = position;
    if (replayed) set({ replayed: state.replayed + 1, position });
    else set({ position });
  });
  return () => state;
}

/** The badge text for a channel's state. */
export function badgeText(state) {
  switch (state.kind) {
    case 'subscribing':
      return 'connecting…';
    case 'live':
      return 'live';
    case 'recovered':
      return state.missed === 0
        ? 'recovered · nothing missed'
        : `recovered · missed ${state.missed}, replayed ${state.replayed}`;
    case 'lost':
      return 'live again · not recovered';
    default:
      return state.kind;
  }
}

/** "12:03:04", in the reader's locale. */
export const clock = (ms) =>
  new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** "4 s ago", "3 min ago". */
export function ago(ms, now = Date.now()) {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}
