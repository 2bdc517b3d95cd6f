// zod transforms cannot take arguments, so `loadConfig` publishes the env it loads from here
// for the duration of one (synchronous) parse; secrets given as { env } read from it.
let current: NodeJS.ProcessEnv | undefined;

export function activeEnv(): NodeJS.ProcessEnv {
  return current ?? process.env;
}

export function withActiveEnv<T>(env: NodeJS.ProcessEnv, fn: () => T): T {
  const previous = current;
  current = env;
  try {
    return fn();
  } finally {
    current = previous;
  }
}
