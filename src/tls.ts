import type { AppOptions } from 'uWebSockets.js';
import { accessSync, constants } from 'node:fs';
import type { TlsSettings } from './auth/config.js';

/**
 * uWS `SSLApp` options from the `tls` settings. The files are checked here because uWS only
 * logs an unreadable certificate and then serves nothing over TLS.
 */
export function tlsOptions(tls: TlsSettings): AppOptions {
  for (const [key, file] of [
    ['tls.certFile', tls.certFile],
    ['tls.keyFile', tls.keyFile],
    ['tls.caFile', tls.caFile],
  ] as const) {
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (error) {
      throw new Error(`${key}: cannot read ${file}: ${(error as Error).message}`);
    }
  }
  return {
    cert_file_name: tls.certFile,
    key_file_name: tls.keyFile,
    ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }),
    ...(tls.caFile === undefined ? {} : { ca_file_name: tls.caFile }),
  };
}
