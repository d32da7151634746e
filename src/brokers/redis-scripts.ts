/**
 * Lua run atomically inside Redis, so that position assignment, history append and fan-out of
 * one publication can never interleave with another publication of the same channel (I3, docs/architecture.md).
 * KEYS are the channel's meta hash, history stream, time checkpoints and source anchors
 * (RedisKeys.of); all carry the channel in a hash tag, so they share a cluster slot. Meta fields:
 * `e` epoch, `o` last offset, `k:<source>` last idempotency sequence per source (e.g. a Kafka
 * topic-partition), `as`/`ao`/`al` the source anchors' (ANCHOR).
 */
import { ANCHOR_INTERVAL, MAX_ANCHORS } from './source-anchors.js';

/** Makes sure a channel has an epoch; a missing meta hash means its history is gone too. */
const ENSURE_EPOCH = `
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV_EPOCH
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
end
`;

/**
 * Records where the publication at `offset` came from (source-anchors.ts): an anchor
 * `offset|source|sequence` when its source differs from the latest anchor's, when the offset
 * before it was published without anchors (the namespace's replay was off), or every
 * ANCHOR_INTERVAL offsets of one source; one comparison per publication otherwise. Needs
 * `offset`, `i` (its first argument), `asource`, `aoffset`, `alast` and `anchored` in scope.
 * Meta fields: `as`/`ao` the latest anchor's source and offset, `al` the last offset anchored.
 */
const ANCHOR = `
local source = ARGV[i + 1]
if source ~= asource or offset ~= alast + 1 or (source ~= '' and offset - aoffset >= ${ANCHOR_INTERVAL}) then
  redis.call('RPUSH', KEYS[4], string.format('%d|', offset) .. string.sub(source, 3) .. '|' .. ARGV[i + 2])
  asource = source
  aoffset = offset
  anchored = true
end
alast = offset
`;

/**
 * Trims the history stream by age. Entry ids are `0-<offset>` (reads start at an offset), so
 * XADD's MINID cannot name a time; instead a list of checkpoints records, for each eighth of the
 * time to live, `start:ms:offset`: when the eighth began, and the time and offset of its latest
 * publication. Every entry up to that offset was published by that time, so once the time is a
 * whole time to live ago, XTRIM MINID drops them. An entry outlives its time to live by at most
 * an eighth (reads skip it by its own expiry `x` meanwhile), also on a channel that publishes in
 * bursts; the work per publication is two LINDEX and an LSET, plus an RPUSH, LPOP and XTRIM once
 * per eighth. Needs `ms`, `offset` and `ttl` (ms) in scope.
 */
const TRIM_BY_AGE = `
local newest = redis.call('LINDEX', KEYS[3], -1)
local began = newest and tonumber(string.match(newest, '^%d+'))
if began and ms - began < ttl / 8 then
  redis.call('LSET', KEYS[3], -1, string.format('%d:%d:%d', began, ms, offset))
else
  redis.call('RPUSH', KEYS[3], string.format('%d:%d:%d', ms, ms, offset))
end
local oldest = redis.call('LINDEX', KEYS[3], 0)
while oldest do
  local last, upto = string.match(oldest, '^%d+:(%d+):(%d+)$')
  if ms - tonumber(last) < ttl then break end
  redis.call('XTRIM', KEYS[2], 'MINID', string.format('0-%d', tonumber(upto) + 1))
  redis.call('LPOP', KEYS[3])
  oldest = redis.call('LINDEX', KEYS[3], 0)
end
redis.call('PEXPIRE', KEYS[3], ttl)
`;

/** Publications one script call takes at most: a call blocks Redis while it runs (about 4 µs each). */
export const PUBLISH_MAX_ITEMS = 256;
/** Arguments of one publication in a publish call (after the call's first PUBLISH_HEAD). */
export const PUBLISH_ITEM_ARGS = 4;
export const PUBLISH_HEAD_ARGS = 6;

/**
 * Publishes one or more publications of one channel, in order, in one atomic call: a batch from
 * a Kafka partition, or the publishes of the channel that arrived in one turn of the hub's event
 * loop (publish-batch.ts). One call instead of one per publication is what lets a hub take in
 * tens of thousands of publications a second on one Redis.
 * ARGV: 1 pub/sub channel, 2 history size, 3 history ttl ms, 4 epoch candidate, 5 meta ttl
 * seconds, 6 '1' to keep source anchors; then per publication: data, idempotency field ('' for
 * none), idempotency sequence, traceparent ('' for none).
 * Returns {epoch, offset1, duplicate1 (0|1), offset2, duplicate2, …}: a duplicate changes nothing
 * and answers the channel's offset when it was met. The publications go out in one pub/sub
 * message (redis-envelope.ts).
 */
export const PUBLISH_SCRIPT = `${ENSURE_EPOCH.replace('ARGV_EPOCH', 'ARGV[4]')}
local size = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local stamp = string.format('%d', ms + ttl)
local reply = {epoch}
local offset = tonumber(redis.call('HGET', KEYS[1], 'o'))
local added = false
local first = nil
local last = nil
local parts = {}
local anchors = ARGV[6] == '1'
local asource, aoffset, alast = false, 0, -1
if anchors then
  local latest = redis.call('HMGET', KEYS[1], 'as', 'ao', 'al')
  asource = latest[1] or false
  aoffset = tonumber(latest[2] or '0')
  alast = tonumber(latest[3] or '-1')
end
local anchored = false
for i = ${PUBLISH_HEAD_ARGS + 1}, #ARGV, ${PUBLISH_ITEM_ARGS} do
  local duplicate = false
  if ARGV[i + 1] ~= '' then
    local seen = tonumber(redis.call('HGET', KEYS[1], ARGV[i + 1]) or '-1')
    if tonumber(ARGV[i + 2]) <= seen then
      duplicate = true
    else
      redis.call('HSET', KEYS[1], ARGV[i + 1], ARGV[i + 2])
    end
  end
  if duplicate then
    reply[#reply + 1] = offset
    reply[#reply + 1] = 1
  else
    offset = offset + 1
    if anchors then
${ANCHOR}
    end
    if size > 0 then
      redis.call('XADD', KEYS[2], 'MAXLEN', size, string.format('0-%d', offset), 'd', ARGV[i], 'x', stamp)
      added = true
    end
    first = first or offset
    last = i
    parts[#parts + 1] = string.format('%d:', #ARGV[i + 3]) .. ARGV[i + 3] .. string.format('%d:', #ARGV[i])
    parts[#parts + 1] = ARGV[i]
    reply[#reply + 1] = offset
    reply[#reply + 1] = 0
  end
end
redis.call('HSET', KEYS[1], 'o', offset)
if anchored then
  redis.call('HSET', KEYS[1], 'as', asource, 'ao', aoffset)
  redis.call('LTRIM', KEYS[4], -${MAX_ANCHORS}, -1)
end
if anchors then
  redis.call('HSET', KEYS[1], 'al', offset)
  redis.call('EXPIRE', KEYS[4], ARGV[5])
end
if first == offset then
  redis.call('PUBLISH', ARGV[1], epoch .. string.format(':%d:%d:', offset, ms) .. ARGV[last + 3] .. ':' .. ARGV[last])
elseif first then
  redis.call('PUBLISH', ARGV[1], string.format('*%s:%d:%d:%d:', epoch, first, ms, offset - first + 1) .. table.concat(parts))
end
if added then
  redis.call('PEXPIRE', KEYS[2], ttl)
${TRIM_BY_AGE}
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return reply
`;

/**
 * The publish script for Redis Cluster: the same, with SPUBLISH, so that the envelope goes only
 * to the node owning the channel's slot and the hubs subscribed there, instead of being broadcast
 * over the cluster bus to every node (classic pub/sub's ceiling in a cluster).
 */
export const SHARDED_PUBLISH_SCRIPT = PUBLISH_SCRIPT.replaceAll("redis.call('PUBLISH'", "redis.call('SPUBLISH'");

/** ARGV: 1 epoch candidate, 2 meta ttl seconds. Returns {epoch, offset}. */
export const POSITION_SCRIPT = `${ENSURE_EPOCH.replace('ARGV_EPOCH', 'ARGV[1]')}
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {epoch, tonumber(redis.call('HGET', KEYS[1], 'o'))}
`;

/**
 * ARGV: 1 epoch candidate, 2 meta ttl seconds, 3 first offset wanted, 4 max entries, 5 '1' to
 * read the source anchors too.
 * Returns {epoch, top offset, now ms, entries, anchors} where entries are XRANGE replies from
 * offset ARGV[3] on, each with fields d (data) and x (expiry ms), and anchors the source anchors
 * oldest first (empty unless asked).
 */
export const HISTORY_SCRIPT = `${ENSURE_EPOCH.replace('ARGV_EPOCH', 'ARGV[1]')}
redis.call('EXPIRE', KEYS[1], ARGV[2])
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local entries = redis.call('XRANGE', KEYS[2], '0-' .. ARGV[3], '+', 'COUNT', ARGV[4])
local anchors = {}
if ARGV[5] == '1' then anchors = redis.call('LRANGE', KEYS[4], 0, -1) end
return {epoch, tonumber(redis.call('HGET', KEYS[1], 'o')), ms, entries, anchors}
`;
