// What a sidecar receives from istiod, through tools/xds-probe (an ADS client with a sidecar's
// node id and metadata, DNS capture on): one-shot views, and a watch that timestamps every change.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { IstiodEnv } from './istiod';

export interface XdsEndpoint {
  address: string;
  port: number;
  region: string;
  zone: string;
  subZone: string;
  priority: number;
  localityWeight: number;
  weight: number;
  health: string;
  labels?: Record<string, string>;
  /** The endpoint's envoy.transport_socket_match tlsMode (istio | disabled), absent when unset. */
  tlsMode?: string;
  /** What the cluster's transport socket matches give this endpoint: mtls | tls | plaintext. */
  transport: string;
}

export interface XdsSocketMatch {
  name: string;
  match: Record<string, string>;
  transport: string;
}

export interface XdsCluster {
  name: string;
  type: string;
  edsServiceName?: string;
  host: string;
  port: number;
  /** http2 (explicit HTTP/2 upstream), downstream (protocol sniffing), default (HTTP/1.1 or TCP). */
  protocol: string;
  services?: Array<Record<string, string>>;
  transportSocketMatches?: XdsSocketMatch[];
  transportSocket: string;
  endpoints: XdsEndpoint[];
  endpointCount: number;
}

export interface XdsVirtualHost {
  name: string;
  domains: string[];
  clusters: string[];
}

export interface XdsFilterChain {
  name?: string;
  destinationPort?: number;
  prefixRanges?: string[];
  transportProtocol?: string;
  applicationProtocols?: string[];
  serverNames?: string[];
  filters: string[];
  /** tcp_proxy's cluster */
  cluster?: string;
  clusters?: string[];
  /** the HTTP connection manager's RDS route name */
  route?: string;
  transportSocket?: string;
}

export interface XdsListener {
  name: string;
  address: string;
  port: number;
  additionalAddresses?: string[];
  filterChains: XdsFilterChain[];
  defaultFilterChain?: XdsFilterChain;
}

export interface XdsView {
  at: number;
  clusters: XdsCluster[];
  routes: Record<string, XdsVirtualHost[]>;
  /** Outbound listeners that lead to a matching cluster (tcp_proxy) or route (RDS). */
  listeners: XdsListener[];
  cdsResponses: number;
  edsResponses: number;
  rdsResponses: number;
  ldsResponses: number;
  allClusters: number;
  allListeners: number;
}

export interface ProbeOptions {
  /** Substrings of the hosts to keep. */
  match: string[];
  /** Namespace of the pretend sidecar. */
  namespace?: string;
  pod?: string;
  summary?: boolean;
}

function probeArgs(env: IstiodEnv, o: ProbeOptions): string[] {
  const args = ['-addr', env.xdsAddr, '-match', o.match.join(',')];
  if (o.namespace) args.push('-namespace', o.namespace);
  if (o.pod) args.push('-pod', o.pod);
  if (o.summary) args.push('-summary');
  return args;
}

/** One complete CDS + EDS + RDS + LDS view, as a new sidecar connecting now would get it. */
export function xdsSnapshot(env: IstiodEnv, o: ProbeOptions): Promise<XdsView> {
  return new Promise((resolve, reject) => {
    execFile(env.probeBin, [...probeArgs(env, o), '-timeout', '20s'], { maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`xds-probe failed: ${stderr || err.message}`));
      resolve(JSON.parse(stdout) as XdsView);
    });
  });
}

/** Polls fresh snapshots until `pred` holds; returns the view that satisfied it. */
export async function untilXds(env: IstiodEnv, o: ProbeOptions, what: string, pred: (v: XdsView) => boolean, ms = 30000): Promise<XdsView> {
  const t0 = Date.now();
  let last: XdsView | undefined;
  for (;;) {
    last = await xdsSnapshot(env, o);
    if (pred(last)) return last;
    if (Date.now() - t0 > ms) {
      throw new Error(`timed out after ${ms} ms waiting for istiod to serve ${what}; last view: ${JSON.stringify(last.clusters).slice(0, 3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A long-lived sidecar connection: every change istiod pushes, with the time it arrived. */
export class XdsWatch {
  readonly views: XdsView[] = [];
  private readonly proc: ChildProcess;
  private readonly waiters: Array<{ pred: (v: XdsView) => boolean; resolve: (v: XdsView) => void; reject: (e: Error) => void }> = [];
  private stderr = '';
  private exited: Error | undefined;

  constructor(env: IstiodEnv, o: ProbeOptions) {
    this.proc = spawn(env.probeBin, [...probeArgs(env, o), '-watch'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    // a probe that dies (istiod gone, stream reset) fails every wait at once instead of timing out
    this.proc.on('exit', (code, signal) => {
      this.exited = new Error(`xds-probe exited (${code ?? signal}): ${this.stderr.slice(-500)}`);
      for (const w of this.waiters.splice(0)) w.reject(this.exited);
    });
    if (!this.proc.stdout) throw new Error('xds-probe has no stdout');
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const v = JSON.parse(line) as XdsView;
      this.views.push(v);
      for (const w of [...this.waiters]) {
        if (w.pred(v)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(v);
        }
      }
    });
  }

  get latest(): XdsView | undefined {
    return this.views[this.views.length - 1];
  }

  /** Resolves with the first view (already seen or to come) that satisfies `pred`. */
  until(what: string, pred: (v: XdsView) => boolean, ms = 30000, since = 0): Promise<XdsView> {
    const seen = this.views.find((v) => v.at >= since && pred(v));
    if (seen) return Promise.resolve(seen);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const w = {
        pred: (v: XdsView) => v.at >= since && pred(v),
        resolve: (v: XdsView) => (clearTimeout(timer), resolve(v)),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out after ${ms} ms waiting for istiod to push ${what}; probe: ${this.stderr.slice(-500)}; last: ${JSON.stringify(this.latest?.clusters ?? []).slice(0, 2000)}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.proc.exitCode !== null) return resolve();
      this.proc.once('exit', () => resolve());
      this.proc.stdin?.end(); // the probe stops when its stdin closes
      setTimeout(() => this.proc.kill('SIGKILL'), 3000).unref();
    });
  }
}

export const clusterOf = (v: XdsView, host: string, port: number): XdsCluster | undefined => v.clusters.find((c) => c.host === host && c.port === port);

/** The outbound cluster of host:port; throws, listing what istiod did serve, if there is none. */
export function mustCluster(v: XdsView, host: string, port: number): XdsCluster {
  const c = clusterOf(v, host, port);
  if (!c) throw new Error(`istiod serves no cluster for ${host}:${port}; it serves ${v.clusters.map((x) => x.name).join(', ') || 'none'}`);
  return c;
}

/** The endpoint of a cluster at `address`; throws if istiod serves none there. */
export function mustEndpoint(c: XdsCluster, address: string): XdsEndpoint {
  const e = c.endpoints.find((x) => x.address === address);
  if (!e) throw new Error(`${c.name} has no endpoint ${address}; it has ${addrs(c).join(', ') || 'none'}`);
  return e;
}

/** `address:port` of each endpoint, sorted: the set a sidecar would balance over. */
export const addrs = (c: XdsCluster | undefined): string[] => (c?.endpoints ?? []).map((e) => `${e.address}:${e.port}`).sort();

/** The listeners with a filter chain that proxies TCP to the cluster `name` (tcp_proxy). */
export const tcpListenersTo = (v: XdsView, name: string): XdsListener[] =>
  v.listeners.filter((l) => [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])].some((fc) => fc.cluster === name || fc.clusters?.includes(name)));

/** The listeners whose HTTP connection manager takes its routes from RDS route `route`. */
export const httpListenersFor = (v: XdsView, route: string): XdsListener[] => v.listeners.filter((l) => l.filterChains.some((fc) => fc.route === route));
