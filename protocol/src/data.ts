/** Deepest nesting of arrays and objects a publication's data may have. */
export const MAX_DATA_DEPTH = 64;

/**
 * Most values (scalars, arrays and objects, each counting one) a publication's data may hold:
 * 2^24, the largest frame limit a hub can be configured with (16 MiB), since on the wire every
 * value takes at least one byte. A bound on the walk below whatever the value is made of.
 */
export const MAX_DATA_NODES = 16 * 1024 * 1024;

/**
 * Why a value is not publishable data, or undefined when it is: JSON values only (finite
 * numbers, well-formed strings, arrays, plain objects), nested at most MAX_DATA_DEPTH deep, at
 * most `maxNodes` values, and no `__proto__` keys. Iterative, so a hostile nesting depth cannot
 * overflow the stack; bounded by `maxNodes`, so even a value that shares parts (which the
 * decoders no longer produce) costs at most that many steps. Strings must be well-formed because
 * a lone surrogate has no UTF-8 encoding for msgpack subscribers.
 */
export function dataProblem(value: unknown, maxNodes: number = MAX_DATA_NODES): string | undefined {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  let nodes = 0;
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (++nodes > maxNodes) return `more than ${maxNodes} values`;
    const current = next.value;
    if (current === null || typeof current === 'boolean') continue;
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) return 'numbers must be finite';
      continue;
    }
    if (typeof current === 'string') {
      if (!current.isWellFormed()) return 'strings must be well-formed Unicode';
      continue;
    }
    // Undefined at the top is a missing field ("a undefined is not JSON data" told callers nothing).
    if (current === undefined) return next.depth === 0 ? 'required' : 'undefined is not JSON data';
    if (typeof current !== 'object') return `a ${typeof current} is not JSON data`;
    if (next.depth >= MAX_DATA_DEPTH) return `nested deeper than ${MAX_DATA_DEPTH} levels`;
    if (Array.isArray(current)) {
      for (const item of current) pending.push({ value: item, depth: next.depth + 1 });
      continue;
    }
    const prototype = Object.getPrototypeOf(current);
    if (prototype !== Object.prototype && prototype !== null) return 'only plain objects are JSON data';
    for (const [key, item] of Object.entries(current)) {
      if (key === '__proto__') return 'the key __proto__ is not allowed';
      if (!key.isWellFormed()) return 'keys must be well-formed Unicode';
      pending.push({ value: item, depth: next.depth + 1 });
    }
  }
  return undefined;
}
