import { loadTls, TlsFileError, TlsMaterial, tlsSchema } from '@registry-bridge/app-config';
import { z } from 'zod';

/** The one TLS block of the apps' config (app-config), for every registry source. */
export const sourceTlsSchema = tlsSchema;

export type SourceTlsConfig = z.infer<typeof sourceTlsSchema>;

export type { TlsMaterial };

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

/** Reads a source's TLS files once, at start (app-config's one loader); a missing file throws a SourceTlsError. */
export function loadSourceTls(source: string, tls: SourceTlsConfig | undefined): TlsMaterial | undefined {
  if (!tls) return undefined;
  try {
    return loadTls(tls);
  } catch (err) {
    if (err instanceof TlsFileError) throw new SourceTlsError(source, err.key, err.file, err.code);
    throw err;
  }
}
