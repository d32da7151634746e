import type * as UWS from 'uWebSockets.js';
import { createRequire } from 'node:module';

export type Uws = typeof UWS;

export interface LoadedUws {
  readonly uws: Uws;
  /** False when the package fell back to its pure-JS server because the native binary did not load. */
  readonly native: boolean;
}

/**
 * Loads uWebSockets.js and tells whether the native server is running. The package silently
 * swaps in a slow pure-JS server when its binary cannot load; only the native module has
 * `SSLApp` and the compressor constants, so their presence tells the two apart.
 */
export function loadUws(): LoadedUws {
  const require = createRequire(import.meta.url);
  const uws = require('uWebSockets.js') as Uws;
  const native = typeof uws.SSLApp === 'function' && typeof uws.getParts === 'function';
  return { uws, native };
}
