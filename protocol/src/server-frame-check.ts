import type { CommandType, ServerFrame } from './frames.js';

/**
 * Hub → client frames and `ok` results checked by hand, for clients: the same rules as the zod
 * schemas ServerFrame and ConnectResult… in frames.ts (the source of truth), in 0.7 kB of
 * a browser bundle where the schemas cost 27 kB with zod and 6.8 kB with zod/mini. A client only
 * needs to know that every key it reads has the type it expects; the hub validates what clients
 * send with the full schemas. test/protocol/server-frame-check.test.ts holds both to the same
 * verdicts on generated frames, valid and broken.
 *
 * Unknown keys are kept (the schemas drop them); a client ignores them either way.
 */

type Check = (value: unknown) => boolean;

const MAX_U32 = 0xffffffff;

const isString: Check = (value) => typeof value === 'string';
const isBoolean: Check = (value) => typeof value === 'boolean';
/** zod's `int()`: a safe integer. */
const isInt: Check = (value) => Number.isSafeInteger(value);
const isNat: Check = (value) => isInt(value) && (value as number) >= 0;
const isPositive: Check = (value) => isInt(value) && (value as number) > 0;
const isRequestId: Check = (value) => isInt(value) && (value as number) >= 1 && (value as number) <= MAX_U32;
const isErrorId: Check = (value) => isNat(value) && (value as number) <= MAX_U32;
const isEpoch: Check = (value) => isString(value) && (value as string).length >= 1 && (value as string).length <= 64;
const isAnything: Check = () => true;
const isPresenceList: Check = (value) =>
  Array.isArray(value) && value.every((entry) => shapeProblem(entry, PRESENCE_ENTRY) === undefined);
const isStringList: Check = (value) => Array.isArray(value) && value.every(isString);

/** Keys and their checks; a `?` after a key makes it optional (absent or undefined). */
type Shape = Readonly<Record<string, Check>>;

const PRESENCE_ENTRY: Shape = { c: isString, 'u?': isString, 'i?': isAnything };

const FRAMES: Readonly<Record<ServerFrame['t'], Shape>> = {
  ok: { id: isRequestId, 'r?': isAnything },
  err: { id: isErrorId, code: isInt, msg: isString, 'tmp?': isBoolean, 'svc?': isString },
  msg: { ch: isString, 'off?': isNat, d: isAnything, 'skip?': isNat },
  dmsg: { ch: isString, 'off?': isNat, k: (value) => isNat(value) && (value as number) <= 2, s: isString },
  unsubd: { ch: isString, code: isInt, msg: isString },
  drain: { after: isNat },
  lost: { ch: isString, ep: isEpoch, off: isNat, why: isString },
  subd: { ch: isString, ep: isString, off: isNat, 'rec?': isBoolean, 'why?': isString },
  pres: { ch: isString, 'join?': isPresenceList, 'leave?': isPresenceList },
};

const RESULTS: Readonly<Record<CommandType, Shape>> = {
  connect: {
    client: isString,
    'node?': isString,
    v: isInt,
    ping: isPositive,
    maxFrame: isPositive,
    'exp?': isInt,
    'subs?': isStringList,
  },
  sub: { ep: isString, off: isNat, 'rec?': isBoolean, 'why?': isString, 'delta?': isString, 'maxRate?': isPositive },
  unsub: {},
  pub: { 'ep?': isString, 'off?': isInt },
  refresh: { 'exp?': isInt },
  ping: {},
  presence: { who: isPresenceList, 'more?': isBoolean },
  presence_stats: { clients: isNat, users: isNat },
  rpc: { 'd?': isAnything },
};

function shapeProblem(value: unknown, shape: Shape): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const record = value as Record<string, unknown>;
  for (const [spec, check] of Object.entries(shape)) {
    const optional = spec.endsWith('?');
    const key = optional ? spec.slice(0, -1) : spec;
    const item = record[key];
    if (optional && item === undefined) continue;
    // Even a key of any type must be there, as zod requires.
    if (!optional && !Object.hasOwn(record, key)) return `${key}: missing`;
    if (!check(item)) return `${key}: invalid`;
  }
  return undefined;
}

/** Why `value` (as fromWire made it) is not a valid hub → client frame, or undefined when it is one. */
export function serverFrameProblem(value: unknown): string | undefined {
  const type = (value as { t?: unknown } | null)?.t;
  if (typeof type !== 'string' || !Object.hasOwn(FRAMES, type)) return 't: unknown frame type';
  return shapeProblem(value, FRAMES[type as ServerFrame['t']]);
}

/** Why `result` (an `ok` reply's `r`, `{}` when absent) is not the result of `command`, or undefined. */
export function resultProblem(command: CommandType, result: unknown): string | undefined {
  return shapeProblem(result, RESULTS[command]);
}
