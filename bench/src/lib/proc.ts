// CPU and memory of the app processes, read from /proc (no agent, no sampling profiler).
import { readFileSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ on Linux; /proc/<pid>/stat counts in these ticks

export interface ProcSample {
  at: number;
  cpuSeconds: number;
  rssKiB: number;
  hwmKiB: number;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may contain spaces) start at ") "
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(f[11]);
    const stime = Number(f[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { at: Date.now(), cpuSeconds: (utime + stime) / CLK_TCK, rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
  } catch {
    return undefined; // process gone
  }
}

/** Samples processes every `everyMs`, keeping the peak RSS seen and the RSS series for growth checks. */
export class ProcSampler {
  private timer?: NodeJS.Timeout;
  readonly series = new Map<string, Array<{ at: number; rssKiB: number }>>();
  readonly peakKiB = new Map<string, number>();

  constructor(private readonly procs: () => Array<{ name: string; pid: number }>) {}

  start(everyMs = 1000): void {
    const tick = () => {
      for (const p of this.procs()) {
        const s = sampleProc(p.pid);
        if (!s) continue;
        const peak = Math.max(this.peakKiB.get(p.name) ?? 0, s.rssKiB, s.hwmKiB);
        this.peakKiB.set(p.name, peak);
        const arr = this.series.get(p.name) ?? [];
        arr.push({ at: s.at, rssKiB: s.rssKiB });
        this.series.set(p.name, arr);
      }
    };
    tick();
    this.timer = setInterval(tick, everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

export function loadAverage(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds used by the whole machine (all cores), to show how busy the neighbours were. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}
