// A private peer of a test or the bench, run by the peers' own script (scripts/peers/<peer>.sh with
// RB_PEER_DIR, see scripts/peers/lib.sh): one script per peer serves the test command
// (scripts/peers.sh), the fault suite and the bench. The binaries come from the shared cache that
// `bash scripts/peers.sh install` (or `up`) filled.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** scripts/peers of this repository (this file is libs/test-peers/src/lib/script-peer.ts). */
export const PEER_SCRIPTS_DIR = resolve(__dirname, '../../../../scripts/peers');

export type PeerScript = 'redis' | 'kube' | 'consul' | 'eureka' | 'moto';

// Every peer still running when the process exits is stopped, so a test that fails before its
// cleanup leaves nothing behind (the scripts start peers in a session of their own).
const running = new Set<ScriptPeer>();
let exitHook = false;

/** One private instance: its own directory (pid files, logs, data) and the script's RB_* variables (its ports, modes). */
export class ScriptPeer {
  readonly dir: string;

  constructor(
    readonly script: PeerScript,
    private readonly vars: () => Record<string, string>,
    dir?: string,
  ) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), `rb-peer-${script}-`));
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, RB_UP_TIMEOUT: '60', ...this.vars(), RB_PEER_DIR: this.dir };
  }

  private args(command: string, rest: string[]): string[] {
    return [join(PEER_SCRIPTS_DIR, `${this.script}.sh`), command, ...rest];
  }

  /** Runs `scripts/peers/<script>.sh <command>`; a failure names the command and ends with the script's own words. */
  run(command: string, ...rest: string[]): Promise<string> {
    return new Promise((res, rej) =>
      execFile('bash', this.args(command, rest), { env: this.env() }, (err, stdout, stderr) =>
        err ? rej(new Error(`scripts/peers/${this.script}.sh ${command} (in ${this.dir}) failed: ${stderr.slice(-2000)}`)) : res(stdout),
      ),
    );
  }

  runSync(command: string, ...rest: string[]): string {
    try {
      return execFileSync('bash', this.args(command, rest), { env: this.env(), stdio: 'pipe' }).toString();
    } catch (e) {
      throw new Error(`scripts/peers/${this.script}.sh ${command} (in ${this.dir}) failed: ${String((e as { stderr?: Buffer }).stderr ?? e).slice(-2000)}`);
    }
  }

  /** Starts it (stopping an earlier run of this instance first) and waits until it answers. */
  async up(): Promise<void> {
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => running.forEach((p) => p.downSync()));
    }
    running.add(this);
    await this.run('up');
  }

  /** Sends the signal (KILL: a crash; TERM: a clean stop) and waits until it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.run('kill', signal.replace(/^SIG/, ''));
    running.delete(this);
  }

  /** Stops it at once (for an exit handler). */
  downSync(): void {
    try {
      this.runSync('down');
    } finally {
      running.delete(this);
    }
  }

  /** SIGSTOP: its sockets stay open and accept, nothing answers (the worst outage). */
  freeze(): void {
    this.runSync('freeze');
  }

  /** SIGCONT; nothing to do when it is not running (a cleanup after a failed start). */
  thaw(): void {
    this.runSync('thaw');
  }

  pid(): number {
    return Number(this.runSync('pid').trim());
  }
}
