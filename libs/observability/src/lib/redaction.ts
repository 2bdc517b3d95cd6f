/** What a log line must never carry, wherever it sits in the object. */
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
  'cookie',
  'privateKey',
] as const;

export const REDACT_CENSOR = '[redacted]';

// fast-redact has no "any depth" wildcard, so each key is listed at a few depths; config and
// error objects that get logged are shallow enough for this.
const MAX_DEPTH = 4;

function atDepths(key: string): string[] {
  return Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => `${'*.'.repeat(depth)}${key}`);
}

/** pino `redact.paths`: secret keys at any of the first few depths, plus HTTP headers that carry credentials. */
export const REDACT_PATHS: string[] = [
  ...SECRET_KEYS.flatMap(atDepths),
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers["x-consul-token"]',
  'req.headers["x-amz-security-token"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];
