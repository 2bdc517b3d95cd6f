// Redis work per period, from INFO commandstats (server-wide: the harness's own commands are
// made outside the measured windows).
import { Redis } from 'ioredis';

export type CommandStats = Record<string, number>;

export async function commandStats(redis: Redis): Promise<CommandStats> {
  const info = await redis.info('commandstats');
  const out: CommandStats = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

export function statsDelta(a: CommandStats, b: CommandStats): { total: number; top: Record<string, number> } {
  const d: Record<string, number> = {};
  for (const k of Object.keys(b)) {
    const v = b[k] - (a[k] ?? 0);
    if (v > 0) d[k] = v;
  }
  // the INFO call that reads the stats counts itself once per sample
  if (d['info']) d['info'] -= 1;
  if (!d['info']) delete d['info'];
  const top = Object.fromEntries(Object.entries(d).sort((x, y) => y[1] - x[1]).slice(0, 8));
  return { total: Object.values(d).reduce((s, v) => s + v, 0), top };
}
