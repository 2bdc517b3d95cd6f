import { readFileSync } from 'node:fs';
import type { TlsConfig } from './common.config';

/** What Node's `https`/`tls` options take. */
export interface TlsMaterial {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  rejectUnauthorized: boolean;
}

/** A TLS file that cannot be read; names the key and the file, never the content. */
export class TlsFileError extends Error {
  override name = 'TlsFileError';
  constructor(
    readonly key: string,
    readonly file: string,
    readonly code: string,
  ) {
    super(`tls.${key}: cannot read ${file}: ${code}`);
  }
}

/** Reads the files of a TLS block once, at start: the one loader for Redis and every registry source. */
export function loadTls(tls: Omit<TlsConfig, 'insecureSkipVerify'> & { insecureSkipVerify?: boolean }): TlsMaterial {
  const material: TlsMaterial = { rejectUnauthorized: !tls.insecureSkipVerify };
  for (const [key, field] of [
    ['caFile', 'ca'],
    ['certFile', 'cert'],
    ['keyFile', 'key'],
  ] as const) {
    const file = tls[key];
    if (!file) continue;
    try {
      material[field] = readFileSync(file);
    } catch (err) {
      throw new TlsFileError(key, file, (err as NodeJS.ErrnoException).code ?? 'error');
    }
  }
  if (tls.serverName) material.servername = tls.serverName;
  return material;
}
