import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { activeEnv } from './active-env';

/** How a secret is given in config: a file (mounted Kubernetes Secret) or an environment variable. */
export type SecretInput = { file: string } | { env: string } | string;

export class SecretError extends Error {
  override name = 'SecretError';
}

/**
 * Reads a secret. Error messages name where it was looked for, never what was found.
 * A trailing newline (as left by `echo >file`) is not part of the secret.
 */
export function resolveSecret(input: SecretInput, env: NodeJS.ProcessEnv = process.env): string {
  let value: string | undefined;
  if (typeof input === 'string') value = input;
  else if ('file' in input) {
    try {
      value = readFileSync(input.file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new SecretError(`cannot read secret file ${input.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (!value) throw new SecretError(`secret file ${input.file} is empty`);
  } else {
    value = env[input.env];
    if (value === undefined) throw new SecretError(`secret env var ${input.env} is not set`);
    if (!value) throw new SecretError(`secret env var ${input.env} is empty`);
  }
  return value;
}

const fileRef = z.strictObject({ file: z.string().min(1) });
const envRef = z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') });

/**
 * A secret given as `{ file: path }` or `{ env: NAME }` (literal strings only with
 * `allowLiteral`, for local development), resolved to its string value while the config loads.
 */
export function secret(options: { allowLiteral?: boolean } = {}): z.ZodType<string, SecretInput> {
  return z
    .custom<SecretInput>(
      (v) => fileRef.safeParse(v).success || envRef.safeParse(v).success || (options.allowLiteral === true && typeof v === 'string' && v.length > 0),
      {
        // Deliberately says nothing about the value given: it may be the secret itself.
        message: options.allowLiteral
          ? 'expected a secret: { file: path }, { env: NAME } or a non-empty string'
          : 'expected a secret as { file: path } or { env: NAME } (literal secrets are not allowed here)',
      },
    )
    .transform((input, ctx) => {
      try {
        return resolveSecret(input, activeEnv());
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    // Lets generated references (docs/configuration.md) name the accepted forms.
    .meta({ description: options.allowLiteral ? 'secret: { file } | { env } | string' : 'secret: { file } | { env }' });
}
