import type { ProxyHookSettings } from './config.js';

/** What the connect hook is sent of the WebSocket upgrade: the configured headers and cookies. */
export interface Forwarded {
  readonly headers: Readonly<Record<string, string>>;
  readonly cookies: Readonly<Record<string, string>>;
}

/**
 * The configured headers and cookies of an upgrade request, or undefined when the connect hook
 * forwards none (then a connection keeps nothing of its upgrade). Read in one pass over the
 * Cookie header, which the header size limit bounds (16 KiB by default).
 */
export function forwardedOf(header: (name: string) => string, settings: ProxyHookSettings): Forwarded | undefined {
  if (!settings.connect || (settings.forwardHeaders.length === 0 && settings.forwardCookies.length === 0))
    return undefined;
  const headers: Record<string, string> = {};
  for (const name of settings.forwardHeaders) {
    const value = header(name);
    if (value) headers[name] = value;
  }
  const cookies: Record<string, string> = {};
  if (settings.forwardCookies.length > 0) {
    const wanted = new Set(settings.forwardCookies);
    for (const part of header('cookie').split(';')) {
      const equals = part.indexOf('=');
      if (equals === -1) continue;
      const name = part.slice(0, equals).trim();
      if (wanted.has(name)) cookies[name] = part.slice(equals + 1).trim();
    }
  }
  return { headers, cookies };
}
