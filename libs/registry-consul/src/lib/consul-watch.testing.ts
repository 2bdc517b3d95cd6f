import { ConsulHttpClient, ConsulResponse } from './consul-http.client';
import { consulWatchSchema, watchBlockInMs } from './consul-source.schema';
import { ConsulWatchContext, ConsulWatchLog, NOOP_CONSUL_METRICS } from './consul-watch.types';

/** Helpers for the unit specs of the watch's parts (the int specs use the real Consul). */

export const quietLog: ConsulWatchLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Keeps the log lines, as `<message> <fields as JSON>`. */
export class RecordingLog implements ConsulWatchLog {
  readonly lines: Array<{ level: 'info' | 'warn' | 'error'; line: string }> = [];
  info = (o: object, m: string): void => void this.lines.push({ level: 'info', line: `${m} ${JSON.stringify(o)}` });
  warn = (o: object, m: string): void => void this.lines.push({ level: 'warn', line: `${m} ${JSON.stringify(o)}` });
  error = (o: object, m: string): void => void this.lines.push({ level: 'error', line: `${m} ${JSON.stringify(o)}` });
  of(level: 'info' | 'warn' | 'error'): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.line);
  }
}

/** A Consul that answers every GET at once with what `answer` returns for its path, and keeps the requests. */
export class ScriptedConsul {
  readonly requests: Array<{ path: string; index?: number; timeoutMs?: number }> = [];
  constructor(public answer: (path: string) => Partial<ConsulResponse<unknown>> & { body: unknown }) {}
  async get<T>(path: string, o: { index?: number; timeoutMs?: number } = {}): Promise<ConsulResponse<T>> {
    this.requests.push({ path, index: o.index, timeoutMs: o.timeoutMs });
    return { filteredByAcl: false, knownLeader: true, ...this.answer(path) } as ConsulResponse<T>;
  }
  close(): void {
    return undefined;
  }
  get client(): ConsulHttpClient {
    return this as unknown as ConsulHttpClient;
  }
}

/** The shared context of a part under test: default options, no metrics, a quiet log. */
export function watchContext(client: ConsulHttpClient, over: Partial<ConsulWatchContext> = {}): ConsulWatchContext {
  return { source: 'consul-dc1', client, options: watchBlockInMs(consulWatchSchema.parse({})), metrics: NOOP_CONSUL_METRICS, log: quietLog, now: Date.now, recoveryTimeout: (f) => 1000 * f, ...over };
}

/** Resolves once `cond` holds; fails the spec when it does not within `ms`. */
export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
