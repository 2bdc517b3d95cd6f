import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadAverage } from './proc';

/** What the numbers were measured on; no paths, no host names. */
export function machineInfo(workspace: string, distDir: string) {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: workspace, encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  const built: Record<string, string> = {};
  for (const app of ['writer', 'collector-consul', 'collector-eureka', 'collector-cloudmap']) {
    try {
      built[app] = statSync(join(distDir, app, 'main.js')).mtime.toISOString();
    } catch {
      built[app] = 'missing';
    }
  }
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadAverageAtStart: loadAverage(),
    commit: git('rev-parse', '--short', 'HEAD'),
    // apps/ and libs/ with uncommitted edits: the dist may hold work in progress
    workTreeDirty: git('status', '--porcelain', '--', 'apps', 'libs') !== '',
    distBuiltAt: built,
  };
}
