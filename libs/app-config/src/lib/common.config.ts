import { z } from 'zod';

/** The HTTP listener (health, metrics, admin). Absent in config means all defaults. */
export const httpConfigSchema = z
  .strictObject({
    port: z.number().int().min(1).max(65535).default(8080),
    host: z.string().min(1).default('0.0.0.0'),
  })
  .prefault({});

export type HttpConfig = z.infer<typeof httpConfigSchema>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `log:` of every app: the only place the log level comes from. */
export const logConfigSchema = z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({});

export type LogConfig = z.infer<typeof logConfigSchema>;

/**
 * A duration in config: always seconds (`...Seconds` keys), fractional where sub-second matters.
 * Code that wants milliseconds converts once, at its boundary, with `toMs`.
 */
export function seconds(min: number, max: number = Number.MAX_SAFE_INTEGER): z.ZodNumber {
  return z.number().min(min).max(max);
}

/** Seconds from config as whole milliseconds. */
export const toMs = (s: number): number => Math.round(s * 1000);

/** The shape of a TLS block; `tlsSchema` adds its check. */
export const tlsShape = z.strictObject({
  /** PEM CA bundle trusted instead of the system roots. */
  caFile: z.string().min(1).optional(),
  /** Client certificate and key for mutual TLS. */
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  /** Name to verify (and SNI) when it differs from the host dialled. */
  serverName: z.string().min(1).optional(),
  /** Only for tests and emergencies; logged as a warning at start. */
  insecureSkipVerify: z.boolean().default(false),
});

const keyPairTogether = (t: { certFile?: string; keyFile?: string }) => !!t.certFile === !!t.keyFile;
const keyPairMessage = { message: 'certFile and keyFile go together' };

/** One TLS block for every connection the apps make (registries, Redis). */
export const tlsSchema = tlsShape.refine(keyPairTogether, keyPairMessage);

/** A TLS block that can be switched on and off (Redis: `rediss://` also switches it on). */
export const switchableTlsSchema = tlsShape
  .extend({ enabled: z.boolean().default(false) })
  .refine(keyPairTogether, keyPairMessage)
  .prefault({});

export type TlsConfig = z.infer<typeof tlsSchema>;
