import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PEER_SCRIPTS_DIR } from './script-peer';

// The echo servers' network namespace belongs to the machine, not to a cache dir: the `down` of a
// cache dir whose istiod never started (a private `scripts/peers.sh down` with its own RB_CACHE_DIR)
// must leave the namespace of the running istiod alone.
jest.setTimeout(30_000);

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' }).toString();

describe('scripts/peers/istiod.sh down', () => {
  const netns = `rb-t${process.pid}`;
  beforeAll(() => ip('netns', 'add', netns));
  afterAll(() => ip('netns', 'del', netns));

  it('of a cache dir with no istiod of its own keeps the network namespace another istiod made', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'rb-istiod-down-'));
    execFileSync('bash', [join(PEER_SCRIPTS_DIR, 'istiod.sh'), 'down'], { env: { ...process.env, RB_CACHE_DIR: cacheDir, RB_ECHO_NETNS: netns }, stdio: 'pipe' });
    expect(ip('netns', 'list')).toContain(netns);
  });
});
