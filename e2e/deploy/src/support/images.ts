// The images that scripts/images.sh builds, read from buildah's storage with skopeo, and run
// once with runc: the same OCI runtime a kubelet's containerd uses, no Docker engine.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const WORKSPACE = resolve(__dirname, '../../../..');
export const APPS = ['writer', 'collector-consul', 'collector-eureka', 'collector-cloudmap'] as const;
export type AppName = (typeof APPS)[number];

const version = (JSON.parse(readFileSync(join(WORKSPACE, 'package.json'), 'utf8')) as { version: string }).version;
/** The image name as scripts/images.sh tags it (same env overrides). */
export function imageRef(app: AppName): string {
  return `localhost/${process.env['RB_IMAGE_PREFIX'] ?? 'registry-bridge'}/${app}:${process.env['RB_IMAGE_TAG'] ?? version}`;
}

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();

export interface ImageConfig {
  config: { User?: string; Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; WorkingDir?: string; Labels?: Record<string, string> };
  rootfs: { diff_ids: string[] };
}

/** The OCI image config, as skopeo reads it from buildah's storage. */
export function imageConfig(ref: string): ImageConfig {
  return JSON.parse(run('skopeo', ['inspect', '--config', `containers-storage:${ref}`])) as ImageConfig;
}

/** Bytes on disk (uncompressed layers) and as a registry serves them (gzip layers, via skopeo). */
export function imageSizes(ref: string): { uncompressed: number; compressed: number } {
  const dir = mkdtempSync(join(tmpdir(), 'rb-oci-'));
  run('skopeo', ['copy', '--quiet', `containers-storage:${ref}`, `oci:${dir}:img`]);
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const blob = (d: string) => join(dir, 'blobs', ...d.split(':'));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8')) as { layers: Array<{ digest: string; size: number }> };
  const compressed = manifest.layers.reduce((s, l) => s + statSync(blob(l.digest)).size, 0);
  const uncompressed = manifest.layers.reduce((s, l) => s + gunzipSync(readFileSync(blob(l.digest))).length, 0);
  execFileSync('rm', ['-rf', dir]);
  return { uncompressed, compressed };
}

/** An image started by runc with a read-only root, the host's network (loopback peers) and /tmp as tmpfs. */
export class RuncContainer {
  readonly id: string;
  readonly logs: string[] = [];
  private proc?: ChildProcess;
  private ctr = '';
  private bundle = '';
  private stopped = false;
  private exitCode: number | null = null;

  constructor(
    readonly ref: string,
    private readonly options: { env: Record<string, string>; binds: string[] },
  ) {
    this.id = `rb-img-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  }

  start(): this {
    const cfg = imageConfig(this.ref).config;
    this.ctr = run('buildah', ['from', '--quiet', this.ref]);
    const rootfs = run('buildah', ['mount', this.ctr]);
    this.bundle = mkdtempSync(join(tmpdir(), 'rb-bundle-'));
    const [uid, gid] = (cfg.User ?? '0:0').split(':').map(Number);
    const spec = {
      ociVersion: '1.0.2',
      process: {
        terminal: false,
        user: { uid, gid: gid ?? uid },
        args: [...(cfg.Entrypoint ?? []), ...(cfg.Cmd ?? [])],
        env: [...(cfg.Env ?? []), ...Object.entries(this.options.env).map(([k, v]) => `${k}=${v}`)],
        cwd: cfg.WorkingDir || '/',
        capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] },
        noNewPrivileges: true,
      },
      root: { path: rootfs, readonly: true },
      hostname: this.id,
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
        { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
        { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
        { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k'] },
        // /etc/resolv.conf is not in the image: the runtime provides it, as a kubelet does.
        { destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['rbind', 'ro'] },
        ...this.options.binds.map((d) => ({ destination: d, type: 'bind', source: d, options: ['rbind', 'ro'] })),
      ],
      // No network namespace: the peers listen on the host's loopback.
      linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }], maskedPaths: ['/proc/kcore', '/proc/keys'], readonlyPaths: ['/proc/sys', '/proc/sysrq-trigger'] },
    };
    writeFileSync(join(this.bundle, 'config.json'), JSON.stringify(spec));
    this.proc = spawn('runc', ['run', '--bundle', this.bundle, this.id], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer) => this.logs.push(b.toString());
    this.proc.stdout?.on('data', keep);
    this.proc.stderr?.on('data', keep);
    return this;
  }

  running(): boolean {
    return !!this.proc && this.proc.exitCode === null;
  }

  /** Runs a command in the running container as its user; returns the exit status and output. */
  exec(args: string[]): { status: number | null; output: string } {
    try {
      return { status: 0, output: execFileSync('runc', ['exec', '--user', '10001:10001', this.id, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
    } catch (e) {
      const err = e as { status: number | null; stdout?: string; stderr?: string };
      return { status: err.status, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
    }
  }

  /** SIGTERM (tini forwards it), wait for the exit, then remove the container and its mount. */
  async stop(): Promise<number | null> {
    if (this.stopped) return this.exitCode;
    this.stopped = true;
    let code: number | null = null;
    if (this.proc && this.running()) {
      const exited = new Promise<number | null>((done) => this.proc?.once('exit', (c) => done(c)));
      execFileSync('runc', ['kill', this.id, 'TERM']);
      const killer = setTimeout(() => execFileSync('runc', ['kill', this.id, 'KILL']), 15_000);
      code = await exited;
      clearTimeout(killer);
    }
    this.exitCode = code;
    execFileSync('runc', ['delete', '--force', this.id], { stdio: 'ignore' });
    if (this.ctr) {
      run('buildah', ['umount', this.ctr]);
      run('buildah', ['rm', this.ctr]);
    }
    return code;
  }
}

/** The SBOM scripts/images.sh copied out of an image. */
export function sbomOf(app: AppName): { bomFormat: string; components: Array<{ name: string; version: string; purl?: string }> } {
  return JSON.parse(readFileSync(join(WORKSPACE, 'dist/images', `${app}.cdx.json`), 'utf8')) as ReturnType<typeof sbomOf>;
}

export const builtImages = (): string[] => readdirSync(join(WORKSPACE, 'dist/images')).filter((f) => f.endsWith('.cdx.json'));
