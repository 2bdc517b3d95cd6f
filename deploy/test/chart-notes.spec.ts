import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { one, render, renderNotes } from './chart';

// What `helm install` prints is copied into a shell as is: the commands must do what they say.
describe('NOTES.txt', () => {
  it('the status commands print /status and return (port-forward never returns by itself, so it runs in the background)', () => {
    const notes = renderNotes();
    const lines = notes.split('\n');
    const start = lines.findIndex((l) => l.startsWith('Status'));
    expect(start).toBeGreaterThan(0);
    // Commands follow on the same line after "Status…:" or on the indented lines below it.
    const commands = [lines[start].slice(lines[start].indexOf(':') + 1).trim()].filter(Boolean);
    for (const l of lines.slice(start + 1)) {
      if (!l.startsWith('  ')) break;
      commands.push(l.trim());
    }
    // Stand-ins: kubectl blocks like a real port-forward, curl prints what it was asked.
    const bin = mkdtempSync(join(tmpdir(), 'rb-notes-bin-'));
    writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\nprintf '%s\\n' "$*" > "${bin}/kubectl.args"\nexec sleep 60\n`);
    writeFileSync(join(bin, 'curl'), '#!/bin/sh\necho "curl $*"\n');
    for (const f of ['kubectl', 'curl']) chmodSync(join(bin, f), 0o755);
    const res = spawnSync('bash', ['-c', commands.join('\n')], { env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` }, encoding: 'utf8', timeout: 20_000 });
    expect([res.signal, res.status, res.stdout.trim()]).toEqual([null, 0, 'curl -s localhost:8080/status']);
    const args = readFileSync(join(bin, 'kubectl.args'), 'utf8').trim();
    expect(args).toBe('-n registry-bridge port-forward svc/rb-registry-bridge-writer 8080:8080');
    // The Service it names exists and serves that port.
    const svc = one(render(), 'Service', 'rb-registry-bridge-writer', 'registry-bridge');
    expect((svc['spec'] as { ports: Array<{ port: number }> }).ports.map((p) => p.port)).toEqual([8080]);
  });
});
