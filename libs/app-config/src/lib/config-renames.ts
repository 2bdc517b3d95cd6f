/**
 * Keys that were renamed or moved (issue 19: one config vocabulary). The project is pre-1.0, so an
 * old key is not translated: it stops the app with a message naming the key that replaced it.
 * `*` in a path matches any list index or map key (e.g. every source).
 */
export interface ConfigRename {
  /** Dotted path of the old key, `*` for any one segment. */
  from: string;
  /** Dotted path of the new key (`*` stands for the same segment as in `from`). */
  to: string;
  /** What changed besides the name, e.g. `seconds`. */
  note?: string;
}

const consulWatchMs = ['wait', 'minLoopInterval', 'backoffBase', 'backoffMax', 'requestTimeout', 'recoveryTimeout', 'recoveryProbeMax', 'snapshotInterval'];

export const CONFIG_RENAMES: readonly ConfigRename[] = [
  ...consulWatchMs.map((k) => ({ from: `sources.*.watch.${k}Ms`, to: `sources.*.watch.${k}Seconds`, note: 'seconds' })),
  { from: 'sources.*.requestTimeoutMs', to: 'sources.*.requestTimeoutSeconds', note: 'seconds' },
  { from: 'sources.*.throttle.baseDelayMs', to: 'sources.*.throttle.baseDelaySeconds', note: 'seconds' },
  { from: 'sources.*.throttle.maxDelayMs', to: 'sources.*.throttle.maxDelaySeconds', note: 'seconds' },
  { from: 'redis.connectTimeoutMs', to: 'redis.connectTimeoutSeconds', note: 'seconds' },
  { from: 'redis.tls.servername', to: 'redis.tls.serverName' },
  { from: 'redis.tls.rejectUnauthorized', to: 'redis.tls.insecureSkipVerify', note: 'the opposite value' },
  { from: 'eureka.sources', to: 'sources' },
  { from: 'eureka.leaseCheckSeconds', to: 'leaseCheckSeconds' },
  { from: 'eureka.readyPolls', to: 'readinessGraceSeconds', note: 'seconds, default 3 poll intervals' },
  { from: 'sources.*.apps.include', to: 'sources.*.apps.allow' },
  { from: 'sources.*.apps.exclude', to: 'sources.*.apps.deny' },
];

/** Environment variables that once set what a config key sets now; set, they stop the app naming the key. */
export const ENV_RENAMES: Readonly<Record<string, string>> = {
  RB_LOG_LEVEL: 'log.level (RB__log__level)',
};

/** Every old environment variable set in `env`, with the key that replaced it. */
export function findRenamedEnv(env: NodeJS.ProcessEnv): Array<{ name: string; message: string }> {
  return Object.entries(ENV_RENAMES)
    .filter(([name]) => env[name] !== undefined)
    .map(([name, to]) => ({ name, message: `replaced by ${to}` }));
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null;

/** Every old key present in `data`, with the concrete path of the old key and of its new one. */
export function findRenamedKeys(data: unknown, renames: readonly ConfigRename[] = CONFIG_RENAMES): Array<{ path: string; message: string }> {
  const found: Array<{ path: string; message: string }> = [];
  for (const rename of renames) {
    const pattern = rename.from.split('.');
    const walk = (node: unknown, i: number, at: string[]): void => {
      if (!isTree(node)) return;
      const seg = pattern[i];
      const keys = seg === '*' ? Object.keys(node) : Object.hasOwn(node, seg) ? [seg] : [];
      for (const key of keys) {
        const path = [...at, key];
        if (i < pattern.length - 1) walk(node[key], i + 1, path);
        else {
          const wild = pattern.map((p, n) => (p === '*' ? path[n] : undefined));
          const to = rename.to
            .split('.')
            .map((p, n) => (p === '*' ? (wild[n] ?? p) : p))
            .join('.');
          found.push({ path: path.join('.'), message: `renamed to ${to}${rename.note ? ` (${rename.note})` : ''}` });
        }
      }
    };
    walk(data, 0, []);
  }
  return found;
}
