import type { SourceAnchor } from '../brokers/broker.js';

/**
 * One stretch of a channel read again from one Kafka partition: from the `start` anchor's
 * sequence (a partition offset), counting the channel's records, the first numbered
 * `start.off`; the records numbered `from`..`to` are the ones wanted. Every anchor of the
 * stretch (`anchors`, `start` first) names the partition offset its record must have, which the
 * reader checks as it counts.
 */
export interface ReplayRun {
  readonly topic: string;
  readonly partition: number;
  readonly start: SourceAnchor;
  readonly anchors: readonly SourceAnchor[];
  readonly from: number;
  readonly to: number;
}

/** Why a stretch of a channel cannot be read again from Kafka, before reading anything. */
export type PlanRefusal =
  /** The channel's anchors start after the first offset wanted (dropped, or made before this hub version). */
  | 'not_indexed'
  /** Some of the wanted publications came from elsewhere (an HTTP publish, another topic). */
  | 'not_from_kafka';

export type ReplayPlan =
  | { readonly ok: true; readonly runs: readonly ReplayRun[] }
  | { readonly ok: false; readonly reason: PlanRefusal };

/** `topic/partition`, as Kafka ingress names its idempotency source (kafka-ingress.ts). */
export function parseKafkaSource(source: string): { topic: string; partition: number } | undefined {
  const slash = source.lastIndexOf('/');
  if (slash < 1) return undefined;
  const partition = Number(source.slice(slash + 1));
  if (!Number.isSafeInteger(partition) || partition < 0 || source.slice(slash + 1) === '') return undefined;
  return { topic: source.slice(0, slash), partition };
}

/**
 * Splits offsets `from`..`to` of a channel into runs by source (oldest anchors first, as the
 * broker keeps them), each from the latest anchor at or before its start: with one source every
 * ANCHOR_INTERVAL offsets, so a run reads at most that many of the channel's records it does not
 * need. Only `topics` (the ingress topics of namespaces with replay) are read.
 */
export function planReplay(
  anchors: readonly SourceAnchor[],
  from: number,
  to: number,
  topics: ReadonlySet<string>,
): ReplayPlan {
  let i = -1;
  for (let k = 0; k < anchors.length && (anchors[k] as SourceAnchor).off <= from; k++) i = k;
  if (i < 0) return { ok: false, reason: 'not_indexed' };
  const runs: ReplayRun[] = [];
  while (i < anchors.length && (anchors[i] as SourceAnchor).off <= to) {
    const start = anchors[i] as SourceAnchor;
    const source = parseKafkaSource(start.source);
    if (!source || !topics.has(source.topic)) return { ok: false, reason: 'not_from_kafka' };
    let j = i + 1;
    while (j < anchors.length && (anchors[j] as SourceAnchor).source === start.source) j++;
    const next = anchors[j];
    const end = next ? next.off - 1 : to;
    runs.push({
      ...source,
      start,
      anchors: anchors.slice(i, j),
      from: Math.max(from, start.off),
      to: Math.min(to, end),
    });
    i = j;
  }
  return { ok: true, runs };
}
