/** What a log line must never carry, wherever it sits in the object (matched case-insensitively). */
export const SECRET_KEYS = [
  'password',
  'passwd',
  'sentinelPassword',
  'token',
  'accessToken',
  'refreshToken',
  'aclToken',
  'secret',
  'clientSecret',
  'secretAccessKey',
  'sessionToken',
  'apiKey',
  'authorization',
  'proxy-authorization',
  'x-consul-token',
  'x-amz-security-token',
  'cookie',
  'set-cookie',
  'privateKey',
] as const;

export const REDACT_CENSOR = '[redacted]';

/**
 * pino `redact.paths` for what `scrubSecrets` cannot see: HTTP headers, which pino-http
 * serializes from the raw request after the log formatter ran. Wildcard paths at several
 * depths would do the rest but cost ~10x per line, hence the scrubber.
 */
export const REDACT_PATHS: string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers["x-consul-token"]',
  'req.headers["x-amz-security-token"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

const SECRET_KEY_SET = new Set<string>(SECRET_KEYS.map((k) => k.toLowerCase()));
const MAX_DEPTH = 8;

const isPlain = (v: object) => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

function copyOf(value: object): Record<string, unknown> {
  if (value instanceof Error) {
    // Keep it an Error (pino's err serializer checks) with its non-enumerable message/stack.
    const copy = Object.assign(Object.create(Object.getPrototypeOf(value)), value);
    Object.defineProperties(copy, { message: { value: value.message, enumerable: false }, stack: { value: value.stack, enumerable: false } });
    return copy;
  }
  return { ...(value as Record<string, unknown>) };
}

/**
 * Returns `value` with every secret-named key censored, at any depth, copying only the
 * objects it changes. Plain objects, arrays and Errors are walked; other instances (requests,
 * buffers, clients) are left alone.
 */
export function scrubSecrets<T>(value: T, depth = 0): T {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const s = scrubSecrets(v, depth + 1);
      if (s !== v) (out ??= [...value])[i] = s;
    });
    return (out ?? value) as T;
  }
  if (!isPlain(value) && !(value instanceof Error)) return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    // ioredis errors carry the failed command, and for AUTH/HELLO its arguments are the password.
    const secret = SECRET_KEY_SET.has(k.toLowerCase()) || (k === 'args' && /^(auth|hello)$/i.test(String((value as { name?: unknown }).name)));
    const s = secret && v !== undefined ? REDACT_CENSOR : scrubSecrets(v, depth + 1);
    if (s !== v) (out ??= copyOf(value))[k] = s;
  }
  return (out ?? value) as T;
}
