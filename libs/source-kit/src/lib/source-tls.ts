import { readFileSync } from 'node:fs';
import { tlsSchema } from '@registry-bridge/app-config';
import { z } from 'zod';

/** The one TLS block of the apps' config (app-config), for every registry source. */
export const sourceTlsSchema = tlsSchema;

export type SourceTlsConfig = z.infer<typeof sourceTlsSchema>;

/** What Node's `https`/`tls` options take. */
export interface TlsMaterial {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  rejectUnauthorized: boolean;
}

/** A source's TLS file that cannot be read; names the key and the file, never the content. */
export class SourceTlsError extends Error {
  constructor(
    readonly source: string,
    readonly key: string,
    file: string,
    code: string,
  ) {
    super(`tls.${key}: cannot read ${file}: ${code}`);
    this.name = 'SourceTlsError';
  }
}

/** Reads a source's TLS files once, at start; a missing file throws a SourceTlsError. */
export function loadSourceTls(source: string, tls: SourceTlsConfig | undefined): TlsMaterial | undefined {
  if (!tls) return undefined;
  const read = (key: 'caFile' | 'certFile' | 'keyFile'): Buffer | undefined => {
    const file = tls[key];
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new SourceTlsError(source, key, file, (err as NodeJS.ErrnoException).code ?? 'error');
    }
  };
  return {
    ca: read('caFile'),
    cert: read('certFile'),
    key: read('keyFile'),
    ...(tls.serverName && { servername: tls.serverName }),
    rejectUnauthorized: !tls.insecureSkipVerify,
  };
}
