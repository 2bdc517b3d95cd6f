// A small fault-injecting HTTPS proxy between the writer and the real API server (a test tool,
// not a fake API server: every request it lets through is answered by kube-apiserver). It serves
// the API server's own certificate, so the writer's kubeconfig only changes its server URL.
import { readFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request, Server } from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { PeersEnv } from '@registry-bridge/test-peers';

export type Fault =
  | { kind: 'pass' }
  /** Answer writes (or every request) with this status; 429 carries Retry-After. */
  | { kind: 'status'; status: 429 | 500 | 409 | 503; writesOnly: boolean; remaining?: number }
  /** Hold every request this long before passing it on. */
  | { kind: 'delay'; ms: number }
  /** Accept and drop connections: the API server is gone. */
  | { kind: 'down' };

export interface Seen {
  at: number;
  method: string;
  path: string;
  status: number;
}

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class FaultProxy {
  fault: Fault = { kind: 'pass' };
  readonly seen: Seen[] = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly target: URL;
  private readonly ca: Buffer;

  constructor(peers: PeersEnv) {
    this.target = new URL(peers.kube.server);
    this.ca = readFileSync(peers.raw['RB_KUBE_CA_FILE']);
    const kubeDir = join(peers.raw['RB_PEERS_RUN_DIR'], 'kube');
    this.server = createServer({ cert: readFileSync(join(kubeDir, 'apiserver.crt')), key: readFileSync(join(kubeDir, 'apiserver.key')) }, (req, res) => void this.handle(req, res));
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    return `https://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  set(f: Fault): void {
    this.fault = f;
    // cut kept-alive connections and open watches so the new behaviour applies at once
    if (f.kind === 'down') for (const s of this.sockets) s.destroy();
  }

  /** Requests since `t` (optionally writes only), watches excluded. */
  count(t: number, writesOnly = false): number {
    return this.seen.filter((s) => s.at >= t && !s.path.includes('watch=') && (!writesOnly || WRITE.has(s.method))).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const f = this.fault;
    const rec: Seen = { at: Date.now(), method: req.method ?? 'GET', path: req.url ?? '', status: 0 };
    this.seen.push(rec);
    if (f.kind === 'down') {
      req.socket.destroy();
      return;
    }
    if (f.kind === 'status' && (!f.writesOnly || WRITE.has(rec.method)) && (f.remaining === undefined || f.remaining > 0)) {
      if (f.remaining !== undefined) f.remaining--;
      rec.status = f.status;
      req.resume();
      const reason = { 429: 'TooManyRequests', 500: 'InternalError', 409: 'Conflict', 503: 'ServiceUnavailable' }[f.status];
      res.writeHead(f.status, { 'content-type': 'application/json', ...(f.status === 429 && { 'retry-after': '1' }) });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `injected by the fault proxy: ${reason}`, reason, code: f.status }));
      return;
    }
    if (f.kind === 'delay') await new Promise((r) => setTimeout(r, f.ms));
    const up = request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.target.host }, ca: this.ca },
      (upRes) => {
        rec.status = upRes.statusCode ?? 0;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
