/**
 * Every scenario of a run, by group (what `--only` names) and id. Fan-out scenarios differ by
 * shape (channels × subscribers), ingress path (the publish pattern), wire format and TLS; each
 * runs the ceiling for its shape only where no other scenario of the same shape does.
 *
 * Groups: fanout (deep WebSocket batches, the reference), patterns (what users' publishers do:
 * one publication per write or per HTTP request), redis, kafka, json, tls, idle, churn, cluster;
 * and hooks for what later issues add (presence, api), listed so a run says they are not measured.
 */
import type { Via } from '../loadgen/types.js';
import type { Format } from '../wire.js';
import type { FanoutSpec } from './fanout.js';

export type Group = 'fanout' | 'patterns' | 'redis' | 'kafka' | 'json' | 'tls';

export interface Entry {
  readonly group: Group;
  readonly spec: FanoutSpec;
}

/** One row of the table; `quick` (fractions, possibly none) puts it in `--quick` runs. */
interface Row {
  readonly id: string;
  readonly group: Group;
  readonly name: string;
  readonly channels: number;
  readonly subs: number;
  /** What the title says before the shape; fan-out rows say "subscribers" after it instead. */
  readonly label?: string;
  readonly broker?: 'memory' | 'redis';
  readonly via?: Via;
  readonly format?: Format;
  readonly tls?: boolean;
  /** Fractions of the hub's maximum run at a fixed rate, in full and in quick runs. */
  readonly full?: readonly number[];
  readonly quick?: readonly number[];
  /** 'direct' runs both ceilings; absent, the row compares with another row's ceiling of the same shape. */
  readonly ceiling?: true | 'direct';
  readonly quickCeiling?: true | 'direct';
}

const ONE = { name: '1 channel × 1,000', channels: 1, subs: 1000 };
const MANY = { name: '100 channels × 100', channels: 100, subs: 100 };
const WIDE = { name: '1 channel × 10,000', channels: 1, subs: 10_000 };
const TINY = { name: '1,000 channels × 10', channels: 1000, subs: 10 };
const CURVE = [0.1, 0.25, 0.5, 0.75, 0.9];
const HALF = [0.5];
const REDIS = { broker: 'redis', via: 'redis', label: 'Redis ingress' } as const;

const ROWS: readonly Row[] = [
  { id: 'one', group: 'fanout', ...ONE, full: CURVE, quick: HALF, ceiling: 'direct' },
  { id: 'wide', group: 'fanout', ...WIDE, full: HALF, ceiling: 'direct' },
  { id: 'many', group: 'fanout', ...MANY, full: CURVE, quick: HALF, ceiling: 'direct', quickCeiling: true },
  { id: 'tiny', group: 'fanout', ...TINY, full: HALF, ceiling: true },
  { id: 'one-single', group: 'patterns', ...ONE, via: 'ws-single', label: 'One pub per write', full: HALF, quick: [] },
  { id: 'many-single', group: 'patterns', ...MANY, via: 'ws-single', label: 'One pub per write', full: HALF },
  { id: 'http-one', group: 'patterns', ...ONE, via: 'http', label: 'HTTP pipelined' },
  {
    id: 'http-single-one',
    group: 'patterns',
    ...ONE,
    via: 'http-single',
    label: 'HTTP one pub per request',
    full: HALF,
    quick: [],
  },
  {
    id: 'http-single-many',
    group: 'patterns',
    ...MANY,
    via: 'http-single',
    label: 'HTTP one pub per request',
    full: HALF,
  },
  { id: 'redis-one', group: 'redis', ...ONE, ...REDIS, full: HALF, quick: [] },
  { id: 'redis-many', group: 'redis', ...MANY, ...REDIS, full: HALF },
  { id: 'kafka-one', group: 'kafka', ...ONE, via: 'kafka', label: 'Kafka ingress', full: HALF, quick: [] },
  { id: 'kafka-many', group: 'kafka', ...MANY, via: 'kafka', label: 'Kafka ingress', full: HALF, quick: [] },
  { id: 'json-one', group: 'json', ...ONE, format: 'json', label: 'JSON', full: HALF, quick: [], ceiling: true },
  { id: 'json-many', group: 'json', ...MANY, format: 'json', label: 'JSON', full: HALF, ceiling: true },
  { id: 'tls-one', group: 'tls', ...ONE, tls: true, label: 'TLS (wss)', full: HALF, quick: [], ceiling: true },
  { id: 'tls-many', group: 'tls', ...MANY, tls: true, label: 'TLS (wss)', full: HALF, ceiling: true },
];

export function scenarios(quick: boolean): Entry[] {
  return ROWS.filter((r) => !quick || r.quick).map((r) => {
    const ceiling = quick ? (r.quickCeiling ?? r.ceiling) : r.ceiling;
    return {
      group: r.group,
      spec: {
        id: r.id,
        title: r.label ? `${r.label}: ${r.name}` : `${r.name} subscribers`,
        channels: r.channels,
        subscribersPerChannel: r.subs,
        broker: r.broker ?? 'memory',
        ingress: r.via ?? 'ws',
        format: r.format,
        tls: r.tls,
        fractions: (quick ? r.quick : r.full) ?? [],
        ceiling: ceiling !== undefined,
        directCeiling: ceiling === 'direct',
      },
    };
  });
}
