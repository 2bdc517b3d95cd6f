// A real xDS data plane: gRPC-Go's proxyless xDS client (tools/xds-grpc call) resolving
// xds:///<host>:<port> through istiod, and gRPC echo servers (tools/xds-grpc echo), one process
// per registry instance, each answering with its instance id.
import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { IstiodEnv } from './istiod';

/** Lines of a child process, each handed to the first waiter that wants it. */
class Lines {
  private readonly waiters: Array<{ resolve: (l: string) => void; reject: (e: Error) => void }> = [];
  private stderr = '';
  private exited: Error | undefined;

  constructor(
    readonly proc: ChildProcess,
    what: string,
  ) {
    proc.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    proc.on('exit', (code, signal) => {
      this.exited = new Error(`${what} exited (${code ?? signal}): ${this.stderr.slice(-800)}`);
      for (const w of this.waiters.splice(0)) w.reject(this.exited);
    });
    if (!proc.stdout) throw new Error(`${what} has no stdout`);
    createInterface({ input: proc.stdout }).on('line', (line) => this.waiters.shift()?.resolve(line));
  }

  next(ms: number, what: string): Promise<string> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const w = { resolve: (l: string) => (clearTimeout(t), resolve(l)), reject: (e: Error) => (clearTimeout(t), reject(e)) };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; stderr: ${this.stderr.slice(-800)}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) return resolve();
      this.proc.once('exit', () => resolve());
      this.proc.stdin?.end(); // both tools stop when their stdin closes
      setTimeout(() => this.proc.kill('SIGKILL'), 3000).unref();
    });
  }
}

/** One gRPC echo server: a registry instance with a real process behind it. */
export class EchoServer {
  private constructor(
    private readonly lines: Lines,
    readonly id: string,
    readonly address: string,
    readonly port: number,
  ) {}

  /**
   * Starts on `port` (0: any free port) in the echo servers' network namespace; rejects if it
   * cannot listen there. Not on loopback: the writer drops loopback endpoints (a sidecar would dial
   * its own pod), so the instances live at an address of a namespace scripts/peers/istiod.sh made.
   */
  static async start(env: IstiodEnv, id: string, port = 0): Promise<EchoServer> {
    const address = env.echoAddress;
    const proc = spawn('ip', ['netns', 'exec', env.echoNetns, env.grpcBin, 'echo', '-listen', `${address}:${port}`, '-id', id], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = new Lines(proc, `echo server ${id}`);
    const first = JSON.parse(await lines.next(10000, `echo server ${id} to listen`)) as { listening: string };
    return new EchoServer(lines, id, address, Number(first.listening.split(':').pop()));
  }

  /**
   * Starts servers for `ids` on ascending ports, the first one's above all others'. The registries
   * pick a service's port as the most common instance port, ties going to the lowest (Eureka) or
   * the first instance by id (Consul): with every instance on its own port, as here on one address,
   * the service port stays the first instance's while it is registered.
   */
  static async startAscending(env: IstiodEnv, ids: string[]): Promise<EchoServer[]> {
    const out: EchoServer[] = [];
    for (const id of ids) {
      const prev = out[out.length - 1]?.port;
      for (let port = prev === undefined ? 0 : prev + 1; ; port++) {
        const s = await EchoServer.start(env, id, port).catch((e: Error) => {
          if (prev === undefined || port > prev + 100) throw e;
          return undefined; // that port is taken: the next one
        });
        if (s) {
          out.push(s);
          break;
        }
      }
    }
    return out;
  }

  stop(): Promise<void> {
    return this.lines.close();
  }
}

export interface CallBatch {
  at: number;
  calls: number;
  /** instance id -> calls it answered */
  servers: Record<string, number>;
  /** gRPC status code -> calls that failed with it */
  errors: Record<string, number>;
  sample?: string;
}

/** A proxyless gRPC client with one xDS channel to `xds:///<host>:<port>`, kept for its life. */
export class GrpcXdsClient {
  private readonly lines: Lines;

  constructor(env: IstiodEnv, target: string, namespace: string, pod: string) {
    const proc = spawn(env.grpcBin, ['call', '-xds', env.xdsAddr, '-target', target, '-namespace', namespace, '-pod', pod], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.lines = new Lines(proc, `xds-grpc client of ${target}`);
  }

  /** Makes `n` unary calls on the channel; which instance answered each, and what failed. */
  async calls(n: number): Promise<CallBatch> {
    const line = this.lines.next(n * 2000 + 10000, `${n} gRPC calls`);
    this.lines.proc.stdin?.write(`${n}\n`);
    return JSON.parse(await line) as CallBatch;
  }

  /**
   * Calls in batches of `n` until a batch satisfies `pred` (a bounded wait, not a timed
   * assertion); returns that batch and how long it took, or throws with the last batch.
   */
  async until(what: string, n: number, pred: (b: CallBatch) => boolean, ms = 30000): Promise<{ batch: CallBatch; tookMs: number }> {
    const t0 = Date.now();
    let last: CallBatch | undefined;
    for (;;) {
      last = await this.calls(n);
      if (pred(last)) return { batch: last, tookMs: Date.now() - t0 };
      if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for gRPC calls to ${what}; last batch: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  close(): Promise<void> {
    return this.lines.close();
  }
}

/** The instance ids that answered a batch, sorted. */
export const answered = (b: CallBatch): string[] => Object.keys(b.servers).sort();
