// Peers a fault may kill, wipe or freeze: this test's own instances, from the binaries that
// `scripts/peers.sh up` built (shared cache), never the shared peers other sessions are using.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './apps';

const CACHE_DIR = process.env['RB_CACHE_DIR'] || join(homedir(), '.cache', 'registry-bridge');

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(undefined));
    s.listen(port, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/**
 * A loopback port nobody listens on right now, below Linux's ephemeral range (32768 up) so the
 * outgoing connections of the tests themselves cannot take it before the peer binds it.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tryListen(26_000 + Math.floor(Math.random() * 6_700));
    if (p) return p;
  }
  const any = await tryListen(0);
  if (!any) throw new Error('no free loopback port');
  return any;
}

export function consulBinary(): string {
  const dir = join(CACHE_DIR, 'bin');
  const bin = existsSync(dir) ? readdirSync(dir).find((f) => /^consul-v[\d.]+-[0-9a-f]+$/.test(f)) : undefined;
  if (!bin) throw new Error(`no consul binary in ${dir}: run \`bash scripts/peers.sh install\` (or \`up\`) first`);
  return join(dir, bin);
}

export interface Certs {
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

/** A throwaway CA and a serving+client certificate for 127.0.0.1/localhost, made with openssl. */
export function makeCerts(cn = 'localhost'): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'rb-faults-pki-'));
  const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=rb-faults-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', `/CN=${cn}`]);
  writeFileSync(join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:server.dc1.consul\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  o(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '2', '-extfile', 'ext']);
  return { dir, ca: join(dir, 'ca.crt'), cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
}

abstract class OwnProcess {
  proc?: ChildProcess;
  logs: string[] = [];
  protected abstract command(): [string, string[]];
  protected abstract ready(): Promise<boolean>;
  protected abstract hasPorts(): boolean;
  /** Picks free loopback ports for the process (again). */
  protected abstract pickPorts(): Promise<void>;

  /**
   * Starts the process, or restarts it on the ports it had. A port found free a moment ago can be
   * taken (a client socket's ephemeral port) before the process binds it: on a first start that
   * fails so, new ports are picked, up to three times.
   */
  async start(): Promise<this> {
    const first = !this.hasPorts();
    for (let attempt = 1; ; attempt++) {
      if (!this.hasPorts() || (first && attempt > 1)) await this.pickPorts();
      const logsBefore = this.logs.length;
      try {
        return await this.startOnce();
      } catch (e) {
        const taken = /address already in use|already in use/i.test(this.logs.slice(logsBefore).join(''));
        if (first && taken && attempt < 3) continue;
        throw e;
      }
    }
  }

  private async startOnce(): Promise<this> {
    const [cmd, args] = this.command();
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    const keep = (b: Buffer) => {
      this.logs.push(b.toString());
      if (this.logs.length > 500) this.logs.splice(0, 250);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    for (;;) {
      // an exit ends the wait at once (and says why), rather than after the timeout
      if (p.exitCode !== null || p.signalCode !== null) {
        await exited;
        throw new Error(`${cmd} exited ${p.exitCode ?? p.signalCode}: ${this.logs.join('').slice(-1500)}`);
      }
      if (await this.ready().catch(() => false)) return this;
      if (Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`${cmd} not ready after 60 s: ${this.logs.join('').slice(-1500)}`);
      }
      await sleep(250);
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((res) => {
      p.once('exit', () => res());
      p.kill(signal);
    });
  }

  /** Freezes the process: its sockets stay open and accept, nothing answers (the worst outage). */
  freeze(): void {
    this.proc?.kill('SIGSTOP');
  }

  thaw(): void {
    this.proc?.kill('SIGCONT');
  }
}

/**
 * A Consul dev agent (in memory: a restart is a wiped registry), optionally HTTPS-only; or, with
 * `persistent`, a single server with a data dir: a restart comes back with its data (same index).
 */
export class OwnConsul extends OwnProcess {
  ports: Record<string, number> = {};
  readonly dir = mkdtempSync(join(tmpdir(), 'rb-faults-consul-'));

  constructor(
    private readonly tls?: Certs,
    private readonly opts: { persistent?: boolean } = {},
  ) {
    super();
  }

  get addr(): string {
    return this.tls ? `https://127.0.0.1:${this.ports['https']}` : `http://127.0.0.1:${this.ports['http']}`;
  }

  protected hasPorts(): boolean {
    return !!this.ports['http'];
  }

  protected async pickPorts(): Promise<void> {
    for (const k of ['http', 'https', 'grpc', 'grpc_tls', 'dns', 'server', 'serf_lan', 'serf_wan']) this.ports[k] = await freePort();
  }

  private writeConfig(): void {
    const p = this.ports;
    const tls = this.tls
      ? `tls { defaults { ca_file = "${this.tls.ca}"\n cert_file = "${this.tls.cert}"\n key_file = "${this.tls.key}"\n verify_incoming = false } }\n`
      : '';
    writeFileSync(
      join(this.dir, 'agent.hcl'),
      `node_name = "rb-faults"\nbind_addr = "127.0.0.1"\nclient_addr = "127.0.0.1"\nadvertise_addr = "127.0.0.1"\ndisable_update_check = true\nlog_level = "WARN"\n` +
        `ports {\n http = ${this.tls ? -1 : p['http']}\n https = ${this.tls ? p['https'] : -1}\n grpc = ${p['grpc']}\n grpc_tls = ${p['grpc_tls']}\n dns = ${p['dns']}\n server = ${p['server']}\n serf_lan = ${p['serf_lan']}\n serf_wan = ${p['serf_wan']}\n}\n` +
        tls,
    );
  }

  protected command(): [string, string[]] {
    this.writeConfig();
    const mode = this.opts.persistent ? ['-server', '-bootstrap-expect=1', `-data-dir=${join(this.dir, 'data')}`] : ['-dev'];
    return [consulBinary(), ['agent', ...mode, `-config-file=${join(this.dir, 'agent.hcl')}`]];
  }

  protected async ready(): Promise<boolean> {
    const r = await this.fetch('/v1/catalog/nodes').catch(() => undefined);
    return !!r && r.ok && (await r.text()).includes('rb-faults');
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

/** A redis-server of this test, without persistence (a restart loses everything) or with an fsync'd AOF. */
export class OwnRedis extends OwnProcess {
  port = 0;
  readonly dir = mkdtempSync(join(tmpdir(), 'rb-faults-redis-'));
  constructor(private readonly persistent: boolean) {
    super();
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  protected hasPorts(): boolean {
    return this.port !== 0;
  }
  protected async pickPorts(): Promise<void> {
    this.port = await freePort();
  }
  protected command(): [string, string[]] {
    const persistence = this.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    return ['redis-server', ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', ...persistence, '--dir', this.dir, '--logfile', '']];
  }
  protected async ready(): Promise<boolean> {
    try {
      return execFileSync('redis-cli', ['-p', String(this.port), 'ping'], { stdio: 'pipe' }).toString().trim() === 'PONG';
    } catch {
      return false;
    }
  }
  async restart(): Promise<void> {
    await this.kill('SIGKILL');
    await sleep(200);
    await this.start();
  }
}

/** moto (the Cloud Map API) of this test, optionally HTTPS with the given certificate. */
export class OwnMoto extends OwnProcess {
  port = 0;
  constructor(private readonly tls?: Certs) {
    super();
  }
  get endpoint(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }
  protected hasPorts(): boolean {
    return this.port !== 0;
  }
  protected async pickPorts(): Promise<void> {
    this.port = await freePort();
  }
  protected command(): [string, string[]] {
    const bin = join(CACHE_DIR, 'moto-venv', 'bin', 'moto_server');
    if (!existsSync(bin)) throw new Error(`no moto in ${bin}: run \`bash scripts/peers.sh install\` (or \`up\`) first`);
    return [bin, ['-H', '127.0.0.1', '-p', String(this.port), ...(this.tls ? ['-s', '-c', this.tls.cert, '-k', this.tls.key] : [])]];
  }
  protected async ready(): Promise<boolean> {
    try {
      const args = ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...(this.tls ? ['--cacert', this.tls.ca] : []), `${this.endpoint}/moto-api/`];
      return execFileSync('curl', args, { stdio: 'pipe' }).toString() === '200';
    } catch {
      return false;
    }
  }
}

/** A Eureka server of this test (response cache off: reads see writes at once); in memory, so a restart is empty. */
export class OwnEureka extends OwnProcess {
  port = 0;
  get url(): string {
    return `http://127.0.0.1:${this.port}/eureka`;
  }
  protected hasPorts(): boolean {
    return this.port !== 0;
  }
  protected async pickPorts(): Promise<void> {
    this.port = await freePort();
  }
  protected command(): [string, string[]] {
    const dir = join(CACHE_DIR, 'bin');
    const jar = existsSync(dir) ? readdirSync(dir).find((f) => /^eureka-server-[0-9a-f]+\.jar$/.test(f)) : undefined;
    if (!jar) throw new Error(`no Eureka server jar in ${dir}: run \`bash scripts/peers.sh install\` (or \`up\`) first`);
    return [
      'java',
      ['-Xms64m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-jar', join(dir, jar), `--server.port=${this.port}`, '--eureka.server.use-read-only-response-cache=false', '--eureka.server.enable-self-preservation=false'],
    ];
  }
  protected async ready(): Promise<boolean> {
    const r = await fetch(`${this.url}/apps`, { headers: { accept: 'application/json' } }).catch(() => undefined);
    return !!r && r.ok && (await r.text()).includes('applications');
  }
  async register(app: string, id: string, ip: string): Promise<void> {
    const r = await fetch(`${this.url}/apps/${app}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(eurekaInstance(app, id, ip)) });
    if (r.status !== 204) throw new Error(`eureka register ${app}/${id}: ${r.status}`);
  }
}

/** The body of `POST /eureka/apps/<app>`: one UP instance on port 8080 with a 10-minute lease. */
export function eurekaInstance(app: string, id: string, ip: string): Record<string, unknown> {
  return {
    instance: {
      instanceId: id,
      hostName: `${id}.test.local`,
      app,
      ipAddr: ip,
      status: 'UP',
      port: { $: 8080, '@enabled': 'true' },
      vipAddress: app.toLowerCase(),
      leaseInfo: { durationInSecs: 600 },
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
    },
  };
}
