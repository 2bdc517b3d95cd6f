import * as http from 'node:http';
import * as https from 'node:https';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { TlsMaterial } from '@registry-bridge/source-kit';

export interface EurekaClientOptions {
  /** Server base URLs of one cluster, each including the base path (e.g. `http://eureka-1:8761/eureka`). Tried in order. */
  serviceUrls: readonly string[];
  /** Basic auth; a password is a secret and is never put in an error or log line. */
  username?: string;
  password?: string;
  /** CA, client certificate and key as read by source-kit's loadSourceTls. */
  tls?: TlsMaterial;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  /** Upper bound of a response body, bytes (a runaway body must not exhaust memory). */
  maxBodyBytes?: number;
}

export interface EurekaResponse {
  status: number;
  body: string;
  /** Redacted base URL that answered. */
  server: string;
  durationMs: number;
  /** The server closed the connection before the body ended (only with `allowPartial`). */
  truncated?: boolean;
}

export class EurekaUnavailableError extends Error {
  constructor(
    message: string,
    readonly attempts: { server: string; error: string }[],
  ) {
    super(message);
    this.name = 'EurekaUnavailableError';
  }
}

/** Drops credentials from a URL so it can be logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid url)';
  }
}

interface Server {
  base: URL;
  redacted: string;
  auth?: string;
}

/**
 * Minimal Eureka REST client over node:http(s): one cluster, its server URLs tried in order
 * starting with the last one that answered (so a dead first URL costs one timeout, not one per
 * request), JSON only, gzip accepted, TLS and basic auth per cluster.
 */
export class EurekaRestClient {
  private readonly servers: Server[];
  private current = 0;
  private readonly httpsAgent?: https.Agent;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(options: EurekaClientOptions) {
    if (options.serviceUrls.length === 0) throw new Error('a Eureka cluster needs at least one server URL');
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024 * 1024;
    this.servers = options.serviceUrls.map((raw) => {
      const base = new URL(raw.endsWith('/') ? raw : `${raw}/`);
      const user = options.username ?? decodeURIComponent(base.username);
      const pass = options.password ?? decodeURIComponent(base.password);
      base.username = '';
      base.password = '';
      return { base, redacted: redactUrl(base.toString()), auth: user ? `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` : undefined };
    });
    if (this.servers.some((s) => s.base.protocol === 'https:')) {
      this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: true, ...options.tls });
    }
  }

  /** Redacted URL of the server currently preferred. */
  get activeServer(): string {
    return this.servers[this.current].redacted;
  }

  getApplications(): Promise<EurekaResponse> {
    return this.get('apps');
  }

  getDelta(): Promise<EurekaResponse> {
    return this.get('apps/delta');
  }

  /**
   * GET a path relative to the base URL. Fails over to the next server on a network error, a
   * timeout or a 5xx; any other status is the cluster's answer and is returned.
   */
  async get(path: string, headers: Record<string, string> = { Accept: 'application/json' }): Promise<EurekaResponse> {
    const attempts: { server: string; error: string }[] = [];
    for (let i = 0; i < this.servers.length; i++) {
      const index = (this.current + i) % this.servers.length;
      const server = this.servers[index];
      try {
        const res = await this.request(server, new URL(path, server.base), headers);
        if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
        this.current = index;
        return res;
      } catch (err) {
        attempts.push({ server: server.redacted, error: (err as Error).message });
      }
    }
    throw new EurekaUnavailableError(`no Eureka server answered: ${attempts.map((a) => `${a.server}: ${a.error}`).join('; ')}`, attempts);
  }

  /**
   * GET a path on the origin of the active server (the dashboard at `/`). With `allowPartial`,
   * a body cut off by the server is returned as far as it came: Spring Cloud's dashboard template
   * can fail while listing instances and drop the connection after the part that matters.
   */
  async getFromOrigin(path: string, headers: Record<string, string>, allowPartial = false): Promise<EurekaResponse> {
    const server = this.servers[this.current];
    return this.request(server, new URL(path, server.base.origin), headers, allowPartial);
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
  }

  private request(server: Server, url: URL, headers: Record<string, string>, allowPartial = false): Promise<EurekaResponse> {
    const started = performance.now();
    const isHttps = url.protocol === 'https:';
    const lib = isHttps ? https : http;
    return new Promise<EurekaResponse>((resolvePromise, rejectPromise) => {
      let settled = false;
      const resolve = (r: EurekaResponse) => void (settled || ((settled = true), resolvePromise(r)));
      const reject = (e: Error) => void (settled || ((settled = true), rejectPromise(e)));
      const req = lib.request(
        url,
        {
          method: 'GET',
          agent: isHttps ? this.httpsAgent : this.httpAgent,
          headers: { 'Accept-Encoding': 'gzip', ...headers, ...(server.auth ? { Authorization: server.auth } : {}) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const stream: Readable = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.maxBodyBytes) {
              reject(new Error(`response larger than ${this.maxBodyBytes} bytes`));
              res.destroy();
              return;
            }
            chunks.push(chunk);
          });
          const cutOff = (err: Error) => {
            if (allowPartial && chunks.length > 0) {
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), server: server.redacted, durationMs: performance.now() - started, truncated: true });
            } else reject(err);
          };
          stream.on('error', cutOff);
          res.on('error', cutOff);
          res.on('aborted', () => cutOff(new Error('connection closed before the response ended')));
          stream.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              server: server.redacted,
              durationMs: performance.now() - started,
            }),
          );
        },
      );
      // The whole request is bounded, not only the connect: a stalled server must fail over.
      const timer = setTimeout(() => req.destroy(new Error(`timeout after ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('timeout', () => req.destroy(new Error(`timeout after ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }
}
