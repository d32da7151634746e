import type { z } from 'zod';

/** A key an answer may name: short and plain. Anything else is untrusted text the answer does not repeat. */
const PRINTABLE_KEY = /^[A-Za-z0-9_]{1,64}$/;

/** Array indexes (numbers in zod's paths) are the caller's own positions: safe to name. */
const keyText = (key: PropertyKey) =>
  typeof key === 'number' ? String(key) : typeof key === 'string' && PRINTABLE_KEY.test(key) ? key : '…';

/**
 * Why a body was refused, from its first issue: the field's path and zod's message. Zod's
 * messages name expectations, never the value; an unknown key's name is repeated only when it is
 * short and plain, so that no caller can make the hub echo arbitrary text.
 */
export function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid body';
  const path = issue.path.map(keyText).join('.');
  const where = path ? `${path}: ` : '';
  if (issue.code === 'unrecognized_keys') return `${where}unknown field ${issue.keys.map(keyText).join(', ')}`;
  return `${where}${issue.message}`;
}
