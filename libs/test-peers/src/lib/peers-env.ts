import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';

/** The command that starts the real peers; every error of this module names it. */
export const PEERS_UP_COMMAND = 'bash scripts/peers.sh up';

/** Endpoints and credentials of the real peers on loopback, as written by `scripts/peers.sh up`. */
export interface PeersEnv {
  /** Path of the env file this was read from. */
  envFile: string;
  redisUrl: string;
  etcdUrl: string;
  kube: {
    server: string;
    /** kubeconfig of `admin` (group system:masters). */
    adminKubeconfig: string;
    /** kubeconfig of `registry-bridge-writer`: authenticated, no RBAC granted until a test grants it. */
    writerKubeconfig: string;
    writerUser: string;
  };
  consul: {
    /** Dev agent, no ACLs. */
    addr: string;
    /** Dev agent with ACLs on, default deny. */
    aclAddr: string;
    /** Initial management (bootstrap) token of the ACL agent. */
    aclToken: string;
  };
  eureka: {
    /** Response cache off, self-preservation off, short eviction interval. Base URL ends in /eureka. */
    url: string;
    /** Response cache on, as shipped. Base URL ends in /eureka. */
    cachedUrl: string;
  };
  cloudMap: {
    endpoint: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
  };
  /** Every KEY=value line of the env file. */
  raw: Record<string, string>;
}

export type PeerName = 'redis' | 'kube' | 'consul' | 'consulAcl' | 'eureka' | 'eurekaCached' | 'cloudMap';

export const ALL_PEERS: readonly PeerName[] = ['redis', 'kube', 'consul', 'consulAcl', 'eureka', 'eurekaCached', 'cloudMap'];

const REQUIRED_KEYS = [
  'RB_REDIS_URL',
  'RB_KUBECONFIG_ADMIN',
  'RB_KUBECONFIG_WRITER',
  'RB_KUBE_SERVER',
  'RB_CONSUL_ADDR',
  'RB_CONSUL_ACL_ADDR',
  'RB_CONSUL_ACL_TOKEN',
  'RB_EUREKA_URL',
  'RB_EUREKA_CACHED_URL',
  'RB_CLOUDMAP_ENDPOINT',
  'RB_AWS_REGION',
  'RB_AWS_ACCESS_KEY_ID',
  'RB_AWS_SECRET_ACCESS_KEY',
  'RB_ETCD_URL',
] as const;

export class PeersUnavailableError extends Error {
  constructor(message: string) {
    super(`${message}\nThe tests need the real peers on loopback: run \`${PEERS_UP_COMMAND}\` first (docs/local-peers.md).`);
    this.name = 'PeersUnavailableError';
  }
}

/** Path of the env file: $RB_PEERS_ENV, else ${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}/peers.env. */
export function peersEnvPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env['RB_PEERS_ENV']) return env['RB_PEERS_ENV'];
  const cacheDir = env['RB_CACHE_DIR'] || join(env['HOME'] || homedir(), '.cache', 'registry-bridge');
  return join(cacheDir, 'peers.env');
}

/** Parses shell `KEY=value` lines (comments and blank lines ignored, optional surrounding quotes removed). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(trimmed);
    if (!m) continue;
    let value = m[2];
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) {
      value = value.slice(1, -1);
    }
    out[m[1]] = value;
  }
  return out;
}

/** Reads and validates the env file without contacting any peer. Throws PeersUnavailableError. */
export function readPeersEnv(path: string = peersEnvPath()): PeersEnv {
  if (!existsSync(path)) {
    throw new PeersUnavailableError(`No peers env file at ${path}.`);
  }
  const raw = parseEnvFile(readFileSync(path, 'utf8'));
  const missing = REQUIRED_KEYS.filter((k) => !raw[k]);
  if (missing.length > 0) {
    throw new PeersUnavailableError(`The peers env file ${path} lacks ${missing.join(', ')}.`);
  }
  const k = (key: (typeof REQUIRED_KEYS)[number]): string => raw[key];
  return {
    envFile: path,
    redisUrl: k('RB_REDIS_URL'),
    etcdUrl: k('RB_ETCD_URL'),
    kube: {
      server: k('RB_KUBE_SERVER'),
      adminKubeconfig: k('RB_KUBECONFIG_ADMIN'),
      writerKubeconfig: k('RB_KUBECONFIG_WRITER'),
      writerUser: raw['RB_KUBE_WRITER_USER'] || 'registry-bridge-writer',
    },
    consul: { addr: k('RB_CONSUL_ADDR'), aclAddr: k('RB_CONSUL_ACL_ADDR'), aclToken: k('RB_CONSUL_ACL_TOKEN') },
    eureka: { url: k('RB_EUREKA_URL'), cachedUrl: k('RB_EUREKA_CACHED_URL') },
    cloudMap: {
      endpoint: k('RB_CLOUDMAP_ENDPOINT'),
      region: k('RB_AWS_REGION'),
      accessKeyId: k('RB_AWS_ACCESS_KEY_ID'),
      secretAccessKey: k('RB_AWS_SECRET_ACCESS_KEY'),
    },
    raw,
  };
}

/** host:port of a peer's URL (redis://, http://, https://). */
export function peerAddress(env: PeersEnv, peer: PeerName): { name: PeerName; url: string; host: string; port: number } {
  const url = {
    redis: env.redisUrl,
    kube: env.kube.server,
    consul: env.consul.addr,
    consulAcl: env.consul.aclAddr,
    eureka: env.eureka.url,
    eurekaCached: env.eureka.cachedUrl,
    cloudMap: env.cloudMap.endpoint,
  }[peer];
  const u = new URL(url);
  const defaultPort = u.protocol === 'https:' ? 443 : u.protocol === 'redis:' ? 6379 : 80;
  return { name: peer, url, host: u.hostname, port: u.port ? Number(u.port) : defaultPort };
}

function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

export interface LoadPeersEnvOptions {
  /** Env file path; default peersEnvPath(). */
  path?: string;
  /** Peers that must answer (TCP connect); default all. Pass [] to skip the check. */
  peers?: readonly PeerName[];
  /** Connect timeout per peer, ms; default 2000. */
  timeoutMs?: number;
}

/**
 * Reads the env file written by `scripts/peers.sh up` and checks that the peers answer.
 * Throws PeersUnavailableError (naming `bash scripts/peers.sh up`) when the file is missing or
 * incomplete or a peer does not answer: tests never skip silently.
 */
export async function loadPeersEnv(options: LoadPeersEnvOptions = {}): Promise<PeersEnv> {
  const env = readPeersEnv(options.path ?? peersEnvPath());
  const peers = options.peers ?? ALL_PEERS;
  const timeoutMs = options.timeoutMs ?? 2000;
  const checks = await Promise.all(
    peers.map(async (p) => {
      const a = peerAddress(env, p);
      return { ...a, ok: await tcpAnswers(a.host, a.port, timeoutMs) };
    }),
  );
  const down = checks.filter((c) => !c.ok);
  if (down.length > 0) {
    throw new PeersUnavailableError(
      `Peer(s) not answering: ${down.map((d) => `${d.name} at ${d.host}:${d.port}`).join(', ')} (env file ${env.envFile}).`,
    );
  }
  return env;
}

/** The opt-in Redis peers of `scripts/peers.sh up redis-cluster|redis-sentinel|redis-tls`. */
export type RedisExtra = 'redis-cluster' | 'redis-sentinel' | 'redis-tls';

/** Every opt-in peer of `scripts/peers.sh up <extra...>` (scripts/peers/extras.sh). */
export type OptInPeer = RedisExtra | 'eureka-tls';

export interface HostPort {
  host: string;
  port: number;
}

export interface RedisExtrasEnv {
  /** 3 masters, no replicas. */
  cluster?: { nodes: HostPort[] };
  /** 1 master + 1 replica watched by 3 sentinels under `masterName`. */
  sentinel?: { sentinels: HostPort[]; masterName: string };
  /** TLS only, password required; the CA signed the server and the client certificate. */
  tls?: { url: string; caFile: string; certFile: string; keyFile: string; password: string };
}

/** The Eureka server over HTTPS only, client certificate required; the CA signed both certificates. */
export interface EurekaTlsEnv {
  /** Base URL, ends in /eureka. */
  url: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

const EXTRA_KEYS: Record<OptInPeer, string[]> = {
  'redis-cluster': ['RB_REDIS_CLUSTER_NODES'],
  'redis-sentinel': ['RB_REDIS_SENTINELS', 'RB_REDIS_SENTINEL_MASTER'],
  'redis-tls': ['RB_REDIS_TLS_URL', 'RB_REDIS_TLS_CA_FILE', 'RB_REDIS_TLS_CERT_FILE', 'RB_REDIS_TLS_KEY_FILE', 'RB_REDIS_TLS_PASSWORD'],
  'eureka-tls': ['RB_EUREKA_TLS_URL', 'RB_EUREKA_TLS_CA_FILE', 'RB_EUREKA_TLS_CERT_FILE', 'RB_EUREKA_TLS_KEY_FILE'],
};

const hostPorts = (v: string): HostPort[] =>
  v.split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
  });

const urlHostPort = (url: string): HostPort => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
};

/** Parses the opt-in Redis keys that are present (pure; see loadRedisExtras). */
export function redisExtrasFrom(raw: Record<string, string>): RedisExtrasEnv {
  const out: RedisExtrasEnv = {};
  if (raw['RB_REDIS_CLUSTER_NODES']) out.cluster = { nodes: hostPorts(raw['RB_REDIS_CLUSTER_NODES']) };
  if (raw['RB_REDIS_SENTINELS'] && raw['RB_REDIS_SENTINEL_MASTER']) {
    out.sentinel = { sentinels: hostPorts(raw['RB_REDIS_SENTINELS']), masterName: raw['RB_REDIS_SENTINEL_MASTER'] };
  }
  if (EXTRA_KEYS['redis-tls'].every((k) => raw[k])) {
    out.tls = {
      url: raw['RB_REDIS_TLS_URL'],
      caFile: raw['RB_REDIS_TLS_CA_FILE'],
      certFile: raw['RB_REDIS_TLS_CERT_FILE'],
      keyFile: raw['RB_REDIS_TLS_KEY_FILE'],
      password: raw['RB_REDIS_TLS_PASSWORD'],
    };
  }
  return out;
}

/** Parses the eureka-tls keys when all are present (pure; see loadEurekaTls). */
export function eurekaTlsFrom(raw: Record<string, string>): EurekaTlsEnv | undefined {
  if (!EXTRA_KEYS['eureka-tls'].every((k) => raw[k])) return undefined;
  return { url: raw['RB_EUREKA_TLS_URL'], caFile: raw['RB_EUREKA_TLS_CA_FILE'], certFile: raw['RB_EUREKA_TLS_CERT_FILE'], keyFile: raw['RB_EUREKA_TLS_KEY_FILE'] };
}

/**
 * Throws, naming `bash scripts/peers.sh up <extra...>`, when the env file lacks the keys of one of
 * `needed` or one of `addrs` does not answer.
 */
async function requireOptIn(env: PeersEnv, needed: readonly OptInPeer[], addrs: (raw: Record<string, string>) => HostPort[], timeoutMs: number): Promise<void> {
  const command = `bash scripts/peers.sh up ${needed.join(' ')}`;
  const missing = needed.filter((x) => EXTRA_KEYS[x].some((k) => !env.raw[k]));
  if (missing.length) throw new Error(`The peers env file ${env.envFile} lacks the opt-in peer(s) ${missing.join(', ')}: run \`${command}\` (docs/local-peers.md).`);
  const down: string[] = [];
  for (const a of addrs(env.raw)) if (!(await tcpAnswers(a.host, a.port, timeoutMs))) down.push(`${a.host}:${a.port}`);
  if (down.length) throw new Error(`Opt-in peer(s) not answering at ${down.join(', ')}: run \`${command}\` (docs/local-peers.md).`);
}

/**
 * The opt-in Redis peers a test needs: throws, naming `bash scripts/peers.sh up <extra...>`, when
 * their keys are missing from the env file or one of their nodes does not answer.
 */
export async function loadRedisExtras(env: PeersEnv, needed: readonly RedisExtra[], timeoutMs = 2000): Promise<RedisExtrasEnv> {
  const extras = redisExtrasFrom(env.raw);
  await requireOptIn(
    env,
    needed,
    () => [
      ...(needed.includes('redis-cluster') ? (extras.cluster?.nodes ?? []) : []),
      ...(needed.includes('redis-sentinel') ? (extras.sentinel?.sentinels ?? []) : []),
      ...(needed.includes('redis-tls') && extras.tls ? [{ ...urlHostPort(extras.tls.url), host: '127.0.0.1' }] : []),
    ],
    timeoutMs,
  );
  return extras;
}

/**
 * The Eureka server over HTTPS (`bash scripts/peers.sh up eureka-tls`): throws, naming that command,
 * when its keys are missing from the env file or it does not answer.
 */
export async function loadEurekaTls(env: PeersEnv, timeoutMs = 2000): Promise<EurekaTlsEnv> {
  await requireOptIn(env, ['eureka-tls'], (raw) => [urlHostPort(raw['RB_EUREKA_TLS_URL'])], timeoutMs);
  return eurekaTlsFrom(env.raw) as EurekaTlsEnv;
}
