/**
 * The shards table: Redis ingress into one hub over 1, 2 and 3 independent shards, with the
 * spread of channels and each shard's CPU per publication side by side.
 */
import { fmtRate } from '../progress.js';
import type { ShardsResult } from '../scenarios/shards.js';

const ms = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 1) : '—');
const us = (n: number | undefined) => (n === undefined ? '—' : n.toFixed(2));

/** One markdown row per shard count, or the reason it has none. */
function row(r: ShardsResult): string {
  const { max, half } = r;
  if (!max || !half) return `| ${r.shards} | ${r.unavailable ?? 'not measured'} | | | | | | |`;
  const shards = half.paths ?? [];
  const spread = (r.spread ?? []).join(' · ');
  // A shard's CPU over the row divided by its own publications: the row's figure over its share.
  const perShard = shards
    .map((p, k) => {
      const own = r.spread?.[k];
      return us(own ? (p.usPerPublication * r.channels) / own : undefined);
    })
    .join(' · ');
  const cores = shards.map((p) => p.cores.toFixed(2)).join(' · ');
  const disturbed = max.quiet === false || half.quiet === false ? ' disturbed' : '';
  return `| ${r.shards} | ${fmtRate(max.pubsPerSec)} | ${fmtRate(half.deliveriesPerSec)} | ${ms(half.latency.p99)} | ${us(max.serverUsPerDelivery)} | ${spread} | ${perShard} | ${cores} | ${Math.max(max.otherCpu, half.otherCpu).toFixed(2)}${disturbed} |`;
}

export function shardsMarkdown(results: readonly ShardsResult[]): string {
  return [
    '### Redis ingress over independent shards',
    '',
    `${results[0]?.channels ?? 60} channels with one subscriber each, published by batch HTTP into one hub (pinned to one core) whose \`broker.shards\` lists 1, 2 or 3 Redis instances; the hub spreads the channels by the hash of their names. "deliveries/s (max)" is a closed loop; at half of it, the p99 latency and, per shard in the order of the list, the channels it holds, its CPU time per publication it held (µs from /proc, over the publications of its own channels, which have equal rates) and the cores it used.`,
    '',
    '| shards | deliveries/s (max) | at half: deliveries/s | p99 ms | hub µs/publication (max) | channels per shard | redis µs per own publication, per shard | redis cores per shard | other load |',
    '| ---: | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |',
    ...results.map(row),
    '',
  ].join('\n');
}
