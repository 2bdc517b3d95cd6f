/** Parsed command line of `registry-bridge diff`. */
export interface DiffArgs {
  command: 'diff';
  writerConfig: string;
  collectorConfigs: Array<{ kind: 'consul' | 'eureka' | 'cloudmap'; file: string }>;
  kubeconfig?: string;
  context?: string;
  output: 'text' | 'json';
  timeoutSeconds: number;
  verbose: boolean;
}

export type ParsedArgs = DiffArgs | { command: 'help' };

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: registry-bridge diff --writer-config FILE --collector-config KIND=FILE [--collector-config KIND=FILE ...]
                            [--kubeconfig FILE] [--context NAME] [--output text|json] [--timeout SECONDS] [--verbose]

Reads every source of the given collector configs once, through the collectors' own code,
computes what the writer would write, and prints the diff against the cluster. Writes nothing.

  --writer-config FILE        the writer's config file (sources, rules, installation, kubernetes)
  --collector-config KIND=FILE  a collector's config file; KIND is consul, eureka or cloudmap (repeatable)
  --kubeconfig FILE           overrides kubernetes.kubeconfig of the writer config
  --context NAME              overrides kubernetes.context of the writer config
  --output text|json          default text
  --timeout SECONDS           per Consul source, for its one complete read (default 30)
  --verbose                   registry warnings on stderr

exit codes: 0 no changes, 2 changes (added, changed or deleted objects), 1 error`;

const KINDS = ['consul', 'eureka', 'cloudmap'] as const;

/** Parses argv (without node and the script). Accepts `--flag value` and `--flag=value`. */
export function parseArgs(argv: string[]): ParsedArgs {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (command !== 'diff') throw new UsageError(`unknown command "${command}"`);
  const out: Partial<DiffArgs> & { collectorConfigs: DiffArgs['collectorConfigs'] } = { command: 'diff', collectorConfigs: [], output: 'text', timeoutSeconds: 30, verbose: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--help' || arg === '-h') return { command: 'help' };
    if (arg === '--verbose' || arg === '-v') {
      out.verbose = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (arg.startsWith('--') && eq > 0) return arg.slice(eq + 1);
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--writer-config':
        out.writerConfig = value();
        break;
      case '--collector-config': {
        const v = value();
        const m = /^([a-z]+)=(.+)$/.exec(v);
        if (!m || !(KINDS as readonly string[]).includes(m[1])) throw new UsageError(`--collector-config takes KIND=FILE with KIND one of ${KINDS.join(', ')}; got "${v}"`);
        out.collectorConfigs.push({ kind: m[1] as DiffArgs['collectorConfigs'][number]['kind'], file: m[2] });
        break;
      }
      case '--kubeconfig':
        out.kubeconfig = value();
        break;
      case '--context':
        out.context = value();
        break;
      case '--output': {
        const v = value();
        if (v !== 'text' && v !== 'json') throw new UsageError(`--output is text or json; got "${v}"`);
        out.output = v;
        break;
      }
      case '--timeout': {
        const v = Number(value());
        if (!Number.isFinite(v) || v <= 0) throw new UsageError('--timeout takes a positive number of seconds');
        out.timeoutSeconds = v;
        break;
      }
      default:
        throw new UsageError(`unknown option "${arg}"`);
    }
  }
  if (!out.writerConfig) throw new UsageError('--writer-config is required');
  if (!out.collectorConfigs.length) throw new UsageError('at least one --collector-config is required');
  return out as DiffArgs;
}
