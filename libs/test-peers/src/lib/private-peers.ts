// Peers a test may kill, wipe or freeze, or the bench may measure alone: private instances on free
// loopback ports (ScriptPeer), never the shared peers other sessions are using.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eurekaInstance } from './eureka-instance';
import { freePort } from './free-port';
import { PEER_SCRIPTS_DIR, PeerScript, ScriptPeer } from './script-peer';

export interface Certs {
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

/** A throwaway CA (scripts/peers/pki.sh) and a serving+client certificate for 127.0.0.1, localhost and Consul's server name. */
export function makeCerts(): Certs {
  const dir = join(mkdtempSync(join(tmpdir(), 'rb-test-pki-')), 'tls');
  execFileSync('bash', [join(PEER_SCRIPTS_DIR, 'pki.sh'), dir, 'rb-test-ca', 'DNS:server.dc1.consul'], { stdio: 'pipe' });
  return { dir, ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

abstract class PrivatePeer {
  protected readonly peer: ScriptPeer;
  protected ports: Record<string, number> = {};

  constructor(script: PeerScript, private readonly portNames: string[]) {
    this.peer = new ScriptPeer(script, () => this.vars());
  }

  /** The script's RB_* variables for the ports picked. */
  protected abstract vars(): Record<string, string>;

  get dir(): string {
    return this.peer.dir;
  }

  /**
   * Starts it, or restarts it on the ports it had. A port found free a moment ago can be taken (a
   * client socket's ephemeral port) before the peer binds it: on a first start that fails so, new
   * ports are picked, up to three times.
   */
  async start(): Promise<this> {
    const first = !this.ports[this.portNames[0]];
    for (let attempt = 1; ; attempt++) {
      if (first) for (const k of this.portNames) this.ports[k] = await freePort();
      try {
        await this.peer.up();
        return this;
      } catch (e) {
        if (first && attempt < 3 && /already in use/i.test((e as Error).message)) continue;
        throw e;
      }
    }
  }

  /** Sends the signal (default SIGKILL: a crash); `start()` brings it back on the same ports and directory. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return this.peer.kill(signal);
  }

  /** Freezes it (SIGSTOP): its sockets stay open and accept, nothing answers (the worst outage). */
  freeze(): void {
    this.peer.freeze();
  }

  thaw(): void {
    this.peer.thaw();
  }

  pid(): number {
    return this.peer.pid();
  }
}

/** A redis-server without persistence (a restart loses everything) or with an fsync'd AOF. */
export class PrivateRedis extends PrivatePeer {
  constructor(private readonly opts: { persistent?: boolean; port?: number } = {}) {
    super('redis', ['redis']);
    if (opts.port) this.ports['redis'] = opts.port;
  }
  protected vars(): Record<string, string> {
    return { RB_REDIS_PORT: String(this.ports['redis']), RB_REDIS_PERSIST: this.opts.persistent ? '1' : '0' };
  }
  get port(): number {
    return this.ports['redis'];
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  /** Stops it at once (for an exit handler). */
  stop(): void {
    this.peer.downSync();
  }
}

/**
 * A Consul dev agent (in memory: a restart is a wiped registry), optionally HTTPS-only; or, with
 * `persistent`, a single server with a data dir: a restart comes back with its data (same index).
 */
export class PrivateConsul extends PrivatePeer {
  constructor(
    private readonly tls?: Certs,
    private readonly opts: { persistent?: boolean } = {},
  ) {
    super('consul', ['http', 'https', 'grpc', 'grpc_tls', 'dns', 'server', 'serf_lan', 'serf_wan']);
  }

  protected vars(): Record<string, string> {
    const p = this.ports;
    return {
      RB_CONSUL_INSTANCES: 'consul',
      RB_CONSUL_NODE: 'rb-private',
      RB_CONSUL_PORT: String(p['http']),
      RB_CONSUL_HTTPS_PORT: String(p['https']),
      RB_CONSUL_GRPC_PORT: String(p['grpc']),
      RB_CONSUL_GRPC_TLS_PORT: String(p['grpc_tls']),
      RB_CONSUL_DNS_PORT: String(p['dns']),
      RB_CONSUL_SERVER_PORT: String(p['server']),
      RB_CONSUL_SERF_LAN_PORT: String(p['serf_lan']),
      RB_CONSUL_SERF_WAN_PORT: String(p['serf_wan']),
      RB_CONSUL_TLS_DIR: this.tls?.dir ?? '',
      RB_CONSUL_PERSIST: this.opts.persistent ? '1' : '0',
    };
  }

  get addr(): string {
    return this.tls ? `https://127.0.0.1:${this.ports['https']}` : `http://127.0.0.1:${this.ports['http']}`;
  }

  /** fetch against the agent (the test trusts the agent's CA when it has TLS). */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    if (!this.tls) return fetch(`${this.addr}${path}`, init);
    // Node's fetch takes no CA option: use curl for the few TLS calls a test makes
    const args = ['-s', '-o', '-', '-w', '\n%{http_code}', '--cacert', this.tls.ca, '-X', init.method ?? 'GET', `${this.addr}${path}`];
    if (init.body) args.push('-d', String(init.body));
    const out = execFileSync('curl', args).toString();
    const i = out.lastIndexOf('\n');
    return Promise.resolve(new Response(out.slice(0, i) || null, { status: Number(out.slice(i + 1)) || 599 }));
  }

  async register(svc: Record<string, unknown>): Promise<void> {
    const r = await this.fetch('/v1/agent/service/register', { method: 'PUT', body: JSON.stringify(svc) });
    if (!r.ok) throw new Error(`register ${JSON.stringify(svc).slice(0, 200)}: ${r.status} ${await r.text()}`);
  }

  async deregister(id: string): Promise<void> {
    await this.fetch(`/v1/agent/service/deregister/${encodeURIComponent(id)}`, { method: 'PUT' });
  }
}

/** moto (the Cloud Map API), optionally HTTPS with the given certificate; in memory. */
export class PrivateMoto extends PrivatePeer {
  constructor(private readonly tls?: Certs) {
    super('moto', ['moto']);
  }
  protected vars(): Record<string, string> {
    return { RB_MOTO_PORT: String(this.ports['moto']), RB_MOTO_TLS_DIR: this.tls?.dir ?? '' };
  }
  get endpoint(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.ports['moto']}`;
  }
}

/** A Eureka server (response cache off: reads see writes at once); in memory, so a restart is empty. */
export class PrivateEureka extends PrivatePeer {
  constructor() {
    super('eureka', ['eureka']);
  }
  protected vars(): Record<string, string> {
    return { RB_EUREKA_INSTANCES: 'eureka', RB_EUREKA_PORT: String(this.ports['eureka']) };
  }
  get url(): string {
    return `http://127.0.0.1:${this.ports['eureka']}/eureka`;
  }
  async register(app: string, id: string, ip: string): Promise<void> {
    const r = await fetch(`${this.url}/apps/${app}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(eurekaInstance(app, id, ip)) });
    if (r.status !== 204) throw new Error(`eureka register ${app}/${id}: ${r.status}`);
  }
}
