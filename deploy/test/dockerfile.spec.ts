import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { APPS, readText, WORKSPACE } from './chart';

// The root Dockerfile against the workspace after `nx build`: its context is complete, each
// target's entrypoint resolves to the built app, and that app really starts from that path.

interface Stage {
  name: string;
  from: string;
  lines: string[];
}

/** Minimal Dockerfile reader: joins `\` continuations, drops comments, splits into stages. */
export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      stages.push({ name: from[2] ?? String(stages.length), from: from[1].replace(/\$\{(\w+)\}/g, (_m, a: string) => args[a] ?? _m), lines: [] });
      continue;
    }
    const arg = /^ARG\s+(\w+)=(\S+)/.exec(line);
    if (arg && !stages.length) args[arg[1]] = arg[2];
    stages[stages.length - 1]?.lines.push(line);
  }
  return { args, stages };
}

/** .dockerignore semantics that this repo uses: globs with `**`, `!` re-includes, last match wins. */
export function dockerIgnored(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const neg = raw.startsWith('!');
    const p = neg ? raw.slice(1) : raw;
    const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\/?/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '.*')}(/.*)?$`);
    if (re.test(path)) ignored = !neg;
  }
  return ignored;
}

const dockerfile = parseDockerfile(readText('Dockerfile'));
const ignore = readText('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stage = (name: string) => {
  const s = dockerfile.stages.find((x) => x.name === name);
  if (!s) throw new Error(`Dockerfile has no stage ${name}`);
  return s;
};
const instr = (s: Stage, op: string) => s.lines.filter((l) => l.toUpperCase().startsWith(`${op} `)).map((l) => l.slice(op.length + 1).trim());
const execForm = (s: string) => JSON.parse(s) as string[];

describe('Dockerfile', () => {
  it('builds on the current Node LTS slim image, in stages', () => {
    const build = stage('build');
    expect(build.from).toMatch(/^node:24-slim$/);
    // By default the runtime base is made from the same Node image; RUNTIME_IMAGE replaces it
    // (scripts/images.sh passes a base made from Debian packages).
    expect(dockerfile.args['RUNTIME_IMAGE']).toBe('node-runtime');
    expect(stage('runtime').from).toBe('node-runtime');
    expect(stage('node-runtime').from).toBe(build.from);
    // Dev dependencies exist only in the build stage.
    expect(instr(build, 'RUN').join('\n')).toMatch(/npm install --no-audit/);
    expect(instr(stage('runtime'), 'RUN').join('\n')).not.toMatch(/npm (ci|install)/);
  });

  it('has a build context that holds everything the build stage copies', () => {
    const sources = instr(stage('build'), 'COPY').flatMap((c) => c.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'apps', 'libs', 'nx.json', 'tsconfig.base.json']));
    for (const src of sources) {
      expect(existsSync(join(WORKSPACE, src))).toBe(true);
      // A directory is sent when the files in it are (Docker walks into re-included directories).
      const files = statSync(join(WORKSPACE, src)).isDirectory() ? readdirSync(join(WORKSPACE, src), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('project.json')).map((f) => `${src}/${f}`) : [src];
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect([f, dockerIgnored(ignore, f)]).toEqual([f, false]);
    }
    // The app sources are in the context, local state is not.
    expect(dockerIgnored(ignore, 'apps/writer/src/main.ts')).toBe(false);
    expect(dockerIgnored(ignore, 'libs/kube/src/index.ts')).toBe(false);
    for (const p of ['node_modules/zod/package.json', 'dist/apps/writer/main.js', '.git/HEAD', 'apps/writer/node_modules/x', 'apps/writer/src/test/writer.int-spec.ts', 'deploy/helm/registry-bridge/values.yaml']) {
      expect(dockerIgnored(ignore, p)).toBe(true);
    }
  });

  it('runs as the non-root uid the chart uses, with tini as PID 1', () => {
    const runtime = stage('runtime');
    const chartUid = (parse(readText('deploy/helm/registry-bridge/values.yaml')) as { podSecurityContext: { runAsUser: number } }).podSecurityContext.runAsUser;
    expect(instr(runtime, 'USER')).toEqual([`${chartUid}:${chartUid}`]);
    expect(instr(stage('node-runtime'), 'RUN').join('\n')).toMatch(/apt-get install .*\btini\b/);
    expect(instr(stage('node-runtime'), 'RUN').join('\n')).toMatch(new RegExp(`useradd --uid ${chartUid} `));
    // The runtime stage runs nothing: a base without a shell (scripts/images.sh) must do.
    expect(instr(runtime, 'RUN')).toEqual([]);
    expect(execForm(instr(runtime, 'ENTRYPOINT')[0])).toEqual(['/usr/bin/tini', '-g', '--']);
  });

  it('labels the image with its source, version and revision, and builds an SBOM per app', () => {
    const labels = instr(stage('runtime'), 'LABEL').join(' ');
    for (const [key, arg] of [['source', 'SOURCE'], ['version', 'VERSION'], ['revision', 'REVISION']]) {
      expect(labels).toContain(`org.opencontainers.image.${key}="\${${arg}}"`);
      expect(instr(stage('runtime'), 'ARG').some((a) => a.startsWith(`${arg}=`))).toBe(true);
    }
    expect(instr(stage('build'), 'RUN').join('\n')).toMatch(/npm sbom --omit=dev --sbom-format=cyclonedx > sbom\.cdx\.json/);
  });

  describe.each(APPS)('target %s', (app) => {
    const target = stage(app);
    const copies = instr(target, 'COPY').map((c) => c.split(/\s+/));
    const cmd = execForm(instr(target, 'CMD')[0]);
    // COPY --from=build /src/<dir>/ /app/  →  the workspace's <dir> after `nx build` (build WORKDIR is /src).
    const [, from, dest] = copies[0];
    const workdir = instr(stage('build'), 'WORKDIR')[0];
    const entry = cmd[1];
    const relInDest = posix.relative(dest, entry);
    const built = join(WORKSPACE, posix.relative(workdir, from), relInDest);

    it('inherits the runtime stage and copies only its own built app', () => {
      expect(target.from).toBe('runtime');
      expect(copies).toHaveLength(1);
      expect(copies[0][0]).toBe('--from=build');
      expect(from).toBe(`${workdir}/dist/apps/${app}/`);
      expect(cmd[0]).toBe('node');
      expect(relInDest.startsWith('..')).toBe(false);
    });

    it('entrypoint resolves to the built main.js with its generated package.json and lockfile', () => {
      expect(statSync(built).isFile()).toBe(true);
      const dir = join(WORKSPACE, posix.relative(workdir, from));
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main: string; dependencies: Record<string, string> };
      expect(pkg.main).toBe(relInDest);
      // Every package the bundle requires is installed by the production install from that lockfile.
      const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
      const installed = new Set(Object.keys(lock.packages).map((k) => k.replace(/^.*node_modules\//, '')));
      const required = [...readFileSync(built, 'utf8').matchAll(/require\("([^"]+)"\)/g)]
        .map((m) => m[1])
        .filter((r) => !r.startsWith('node:') && !r.startsWith('.') && !builtinModules.includes(r))
        .map((r) => (r.startsWith('@') ? r.split('/').slice(0, 2).join('/') : r.split('/')[0]));
      expect(required.length).toBeGreaterThan(5);
      expect([...new Set(required)].filter((r) => !installed.has(r))).toEqual([]);
      // No dev tooling in the production dependency list.
      expect(Object.keys(pkg.dependencies).filter((d) => /^(jest|ts-jest|typescript|nx|@nx\/|eslint|webpack)/.test(d))).toEqual([]);
    });

    it('starts with `node <entrypoint>` and stops on a bad config with the config error', () => {
      const dir = mkdtempSync(join(tmpdir(), 'rb-entry-'));
      const cfg = join(dir, 'bad.yaml');
      writeFileSync(cfg, 'http:\n  port: not-a-port\n');
      const res = spawnSync(process.execPath, cmd.slice(1).map((a) => (a === entry ? built : a)), {
        env: { PATH: process.env['PATH'], RB_CONFIG_FILE: cfg },
        encoding: 'utf8',
        timeout: 30_000,
      });
      const out = `${res.stdout}${res.stderr}`;
      expect(res.signal).toBeNull();
      expect(res.status).toBe(1);
      // The app's own config validation ran (the bundle and its dependencies loaded).
      expect(out).toMatch(/config: http\.port: expected number, got string/);
    });
  });
});
