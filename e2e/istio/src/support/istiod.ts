// istiod as started by `bash scripts/peers/istiod.sh up`: its env file, debug endpoints, metrics,
// and the CPU and memory of its process (read from /proc: it runs on this machine).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnvFile } from '@registry-bridge/test-peers';

export const ISTIOD_UP_COMMAND = 'bash scripts/peers.sh up && bash scripts/peers/istiod.sh up';
export const TOOLS_INSTALL_COMMAND = 'bash scripts/peers/istiod.sh install';

export interface IstiodEnv {
  xdsAddr: string;
  debugUrl: string;
  metricsUrl: string;
  pid: number;
  version: string;
  /** tools/xds-probe, built from this checkout's sources: the pretend sidecar. */
  probeBin: string;
  /** tools/xds-grpc, built from this checkout's sources: proxyless gRPC client and echo server. */
  grpcBin: string;
  /** The network namespace istiod.sh made for the gRPC echo servers, and their address in it. */
  echoNetns: string;
  echoAddress: string;
}

export class IstiodUnavailableError extends Error {
  constructor(message: string) {
    super(`${message}\nThe Istio e2e needs the real peers and istiod on loopback: run \`${ISTIOD_UP_COMMAND}\` first (docs/istio-proof.md).`);
    this.name = 'IstiodUnavailableError';
  }
}

const cacheDir = (env: NodeJS.ProcessEnv = process.env): string => env['RB_CACHE_DIR'] || join(env['HOME'] || homedir(), '.cache', 'registry-bridge');

export function istiodEnvPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'istiod.env');
}

/**
 * The cached binary of a Go test tool (tools/<name>) as scripts/peers/istiod.sh names it: the first
 * 12 hex digits of the sha256 of its go.mod, go.sum and main.go. Computed here rather than read
 * from istiod's env file, so the suites run the tools of their own checkout whoever started istiod.
 */
export function toolBin(name: 'xds-probe' | 'xds-grpc', env: NodeJS.ProcessEnv = process.env): string {
  const dir = resolve(__dirname, '../../../../tools', name);
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) h.update(readFileSync(join(dir, f)));
  const bin = join(cacheDir(env), 'bin', `${name}-${h.digest('hex').slice(0, 12)}`);
  if (!existsSync(bin)) throw new IstiodUnavailableError(`${name} (tools/${name}) is not built for these sources at ${bin}: run \`${TOOLS_INSTALL_COMMAND}\`.`);
  return bin;
}

/** Reads istiod's env file and checks that istiod answers ready; throws IstiodUnavailableError. */
export async function loadIstiodEnv(path = istiodEnvPath()): Promise<IstiodEnv> {
  if (!existsSync(path)) throw new IstiodUnavailableError(`No istiod env file at ${path}.`);
  const raw = parseEnvFile(readFileSync(path, 'utf8'));
  const missing = ['RB_ISTIOD_XDS_ADDR', 'RB_ISTIOD_DEBUG_URL', 'RB_ISTIOD_METRICS_URL', 'RB_ISTIOD_PID', 'RB_ECHO_NETNS', 'RB_ECHO_ADDR'].filter((k) => !raw[k]);
  if (missing.length) throw new IstiodUnavailableError(`The istiod env file ${path} lacks ${missing.join(', ')}.`);
  const env: IstiodEnv = {
    xdsAddr: raw['RB_ISTIOD_XDS_ADDR'],
    debugUrl: raw['RB_ISTIOD_DEBUG_URL'],
    metricsUrl: raw['RB_ISTIOD_METRICS_URL'],
    pid: Number(raw['RB_ISTIOD_PID']),
    version: raw['RB_ISTIOD_VERSION'] ?? 'unknown',
    probeBin: toolBin('xds-probe'),
    grpcBin: toolBin('xds-grpc'),
    echoNetns: raw['RB_ECHO_NETNS'],
    echoAddress: raw['RB_ECHO_ADDR'],
  };
  const ready = await fetch(`${env.debugUrl}/ready`).then((r) => r.ok).catch(() => false);
  if (!ready) throw new IstiodUnavailableError(`istiod does not answer ready at ${env.debugUrl}/ready.`);
  return env;
}

/** GET a JSON debug endpoint of istiod (/debug/configz, /debug/registryz, /debug/endpointShardz, ...). */
export async function istiodDebug<T = unknown>(env: IstiodEnv, path: string): Promise<T> {
  const r = await fetch(`${env.debugUrl}${path}`);
  if (!r.ok) throw new Error(`istiod ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Sum of a Prometheus metric's samples whose labels include `labels`. */
export async function istiodMetric(env: IstiodEnv, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(env.metricsUrl)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

/** CPU seconds (user + system) istiod has used so far; Linux reports them in clock ticks of 1/100 s. */
export function istiodCpuSeconds(env: IstiodEnv): number {
  const stat = readFileSync(`/proc/${env.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory of istiod in MiB. */
export function istiodRssMiB(env: IstiodEnv): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${env.pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}
