// The built apps (dist/apps/*/main.js) as real processes, each with its own YAML config; their
// output is kept in memory and in a log file per process (the security spec greps those files).
import { AppProcess, waitFor } from '@registry-bridge/test-peers';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';

export const WORKSPACE = resolve(__dirname, '../../../..');
export type AppName = 'writer' | 'collector-consul' | 'collector-cloudmap' | 'collector-eureka';
// RB_FAULTS_DIST: a copy of dist/apps, for a machine where other builds rewrite dist/ meanwhile
export const mainOf = (app: AppName): string => join(process.env['RB_FAULTS_DIST'] ?? join(WORKSPACE, 'dist/apps'), app, 'main.js');

/** One log dir per test run; every app's output lands here too. */
export const RUN_LOG_DIR = process.env['RB_FAULTS_LOG_DIR'] ?? mkdtempSync(join(tmpdir(), 'rb-faults-logs-'));
mkdirSync(RUN_LOG_DIR, { recursive: true });

export function requireBuilt(apps: AppName[]): void {
  const missing = apps.filter((a) => !existsSync(mainOf(a)));
  if (missing.length) throw new Error(`${missing.map(mainOf).join(', ')} missing: run \`npx nx run-many -t build -p ${missing.join(' ')}\` (or \`npx nx fault-test e2e-faults\`, which builds them)`);
}

let nextPort = 21000 + Math.floor(Math.random() * 300) * 10;
/** Ports for this run's apps, spread so parallel runs on the shared machine rarely collide. */
export const port = (): number => nextPort++;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The shared poller at the fault suite's pace (200 ms). */
export const until = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30000, every = 200): Promise<T> => waitFor(what, fn, ms, every);

/** One app of a scenario: restartable (start() again), its output also in a log file per process. */
export class App extends AppProcess {
  readonly logFile: string;

  constructor(
    override readonly name: AppName,
    port: number,
    configFile: string,
    env: NodeJS.ProcessEnv,
    logFile = join(RUN_LOG_DIR, `${name}-${port}.log`),
  ) {
    // a copied dist (RB_FAULTS_DIST) still resolves its externals from the workspace
    super({ name, main: mainOf(name), port, configFile, env: { NODE_PATH: join(WORKSPACE, 'node_modules'), ...env }, logFile, startTimeoutMs: 45_000 });
    this.logFile = logFile;
  }
}

export function writeConfig(name: string, cfg: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), `rb-faults-${name}-`));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(cfg));
  return file;
}

export async function startApp(name: AppName, cfg: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<App> {
  const p = port();
  const file = writeConfig(name, { ...cfg, http: { port: p, host: '127.0.0.1' } });
  return new App(name, p, file, { RB__log__level: 'info', ...env }).start();
}
