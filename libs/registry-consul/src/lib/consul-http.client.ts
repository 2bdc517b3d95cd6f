import { Agent as HttpAgent, IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { parseConsulIndex, requestTimeoutMs } from './blocking-index';
import type { TlsMaterial } from '@registry-bridge/source-kit';

/**
 * Plain HTTP to Consul rather than the `consul` npm client: blocking queries need per-request
 * control that the client does not give (index and wait per call, the X-Consul-Index and
 * X-Consul-Results-Filtered-By-ACLs headers, a timeout that outlasts the wait, abort on shutdown or
 * on losing ownership) and one bounded socket pool per source, so the number of long polls held
 * against Consul's per-client connection limit is a hard bound, not a hope.
 */
export interface ConsulHttpOptions {
  address: string;
  /** Called per request so a rotated token file is picked up. */
  token?: () => string | undefined;
  tls?: TlsMaterial;
  datacenter?: string;
  namespace?: string;
  partition?: string;
  consistency: 'stale' | 'default' | 'consistent';
  /** Hard cap of open sockets to this Consul (long polls + short reads). */
  maxSockets: number;
  requestTimeoutMs: number;
}

export type ConsulErrorKind = 'acl' | 'http' | 'network' | 'timeout' | 'aborted' | 'decode';

export class ConsulRequestError extends Error {
  constructor(
    readonly kind: ConsulErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ConsulRequestError';
  }
}

export interface ConsulResponse<T> {
  body: T;
  index?: number;
  /** Consul removed entries the token may not read: the answer is not the whole truth. */
  filteredByAcl: boolean;
  knownLeader: boolean;
  /** `X-Consul-Default-Acl-Policy` (allow|deny) when ACLs are on. */
  defaultAclPolicy?: string;
}

export interface ConsulGetOptions {
  index?: number;
  waitMs?: number;
  signal?: AbortSignal;
  query?: Record<string, string | undefined>;
  /** Overrides the timeout of a non-blocking read (the short read after a failure). */
  timeoutMs?: number;
}

/** Thin, bounded HTTP client for the read endpoints the collector needs. */
export class ConsulHttpClient {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly base: URL;
  private readonly https: boolean;

  constructor(private readonly opts: ConsulHttpOptions) {
    this.base = new URL(opts.address);
    this.https = this.base.protocol === 'https:';
    const common = { keepAlive: true, maxSockets: opts.maxSockets, maxFreeSockets: Math.min(opts.maxSockets, 16) };
    this.agent = this.https ? new HttpsAgent({ ...common, ...opts.tls }) : new HttpAgent(common);
  }

  get<T>(path: string, o: ConsulGetOptions = {}): Promise<ConsulResponse<T>> {
    const url = new URL(path, this.base);
    const q: Record<string, string | undefined> = {
      dc: this.opts.datacenter,
      ns: this.opts.namespace,
      partition: this.opts.partition,
      ...o.query,
    };
    if (this.opts.consistency !== 'default') q[this.opts.consistency] = '';
    if (o.index !== undefined && o.index > 0) {
      q['index'] = String(o.index);
      q['wait'] = `${Math.ceil((o.waitMs ?? 60000) / 1000)}s`;
    }
    for (const [k, v] of Object.entries(q)) if (v !== undefined) url.searchParams.set(k, v);
    const timeout = o.index ? requestTimeoutMs(o.waitMs ?? 60000) : (o.timeoutMs ?? this.opts.requestTimeoutMs);
    const token = this.opts.token?.();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers['x-consul-token'] = token;

    return new Promise((resolve, reject) => {
      if (o.signal?.aborted) return reject(new ConsulRequestError('aborted', `GET ${url.pathname} aborted`));
      const req = (this.https ? httpsRequest : httpRequest)(url, { method: 'GET', agent: this.agent, headers, timeout, signal: o.signal });
      req.on('timeout', () => req.destroy(new ConsulRequestError('timeout', `GET ${url.pathname} timed out after ${timeout} ms`)));
      req.on('error', (err: Error & { code?: string }) => {
        if (err instanceof ConsulRequestError) return reject(err);
        if (err.name === 'AbortError' || o.signal?.aborted) return reject(new ConsulRequestError('aborted', `GET ${url.pathname} aborted`));
        reject(new ConsulRequestError('network', `GET ${url.pathname} failed: ${err.code ?? err.message}`));
      });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new ConsulRequestError('network', `GET ${url.pathname} broke off: ${err.message}`)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 403 || status === 401) {
            // Consul says "ACL not found" (unknown token) or "Permission denied" (token lacks a rule).
            return reject(new ConsulRequestError('acl', `Consul refused GET ${url.pathname} (${status} ${oneLine(text)}): check the ACL token and its service:read/node:read rules`, status));
          }
          if (status < 200 || status >= 300) {
            return reject(new ConsulRequestError('http', `GET ${url.pathname} answered ${status}: ${oneLine(text)}`, status));
          }
          let body: T;
          try {
            body = JSON.parse(text) as T;
          } catch {
            return reject(new ConsulRequestError('decode', `GET ${url.pathname} returned invalid JSON`, status));
          }
          resolve({
            body,
            index: parseConsulIndex(res.headers['x-consul-index']),
            filteredByAcl: res.headers['x-consul-results-filtered-by-acls'] === 'true',
            knownLeader: res.headers['x-consul-knownleader'] !== 'false',
            defaultAclPolicy: headerValue(res.headers['x-consul-default-acl-policy']),
          });
        });
      });
      req.end();
    });
  }

  /** Sockets in use now (long polls + short reads): the bound the pool must respect. */
  openSockets(): number {
    return Object.values(this.agent.sockets).reduce((n, list) => n + (list?.length ?? 0), 0);
  }

  close(): void {
    this.agent.destroy();
  }
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 300);
}
