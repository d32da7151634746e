import { randomBytes } from 'node:crypto';

/** A fresh epoch: short, random, and different from every epoch a channel had before. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}
