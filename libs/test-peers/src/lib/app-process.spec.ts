import { readFileSync } from 'node:fs';
import { AppProcess, writeTempFile } from './app-process';
import { freePort } from './free-port';

// A stand-in main.js: listens on the port its config file names, like the built apps do.
const MAIN = writeTempFile(
  'rb-app-process-',
  `
const http = require('node:http');
const { port, exitCode } = JSON.parse(require('node:fs').readFileSync(process.env.RB_CONFIG_FILE, 'utf8'));
if (exitCode !== undefined) { console.error('bad config'); process.exit(exitCode); }
console.log('hello ' + process.env.GREETING);
http.createServer((req, res) => {
  if (req.url === '/metrics') return res.end('jobs_total{queue="a",kind="x"} 2\\njobs_total{queue="a",kind="y"} 3\\njobs_total{queue="b"} 7\\njobs_totalx 100\\n');
  res.writeHead(req.url === '/health/ready' ? 503 : 200).end(JSON.stringify({ url: req.url }));
}).listen(port, '127.0.0.1');
`,
  'main.js',
);

describe('AppProcess', () => {
  it('starts once /health/live answers, keeps the output, reads endpoints and metrics, and stops', async () => {
    const port = await freePort();
    const logFile = writeTempFile('rb-app-process-log-', '', 'app.log');
    const app = new AppProcess({ name: 'stand-in', main: MAIN, port, configFile: writeTempFile('rb-app-process-', JSON.stringify({ port })), env: { GREETING: 'there' }, logFile });
    await app.start();
    try {
      expect(app.alive()).toBe(true);
      expect(await app.json('/x')).toEqual({ url: '/x' });
      expect((await app.ready()).status).toBe(503);
      expect(await app.metric('jobs_total', { queue: 'a' })).toBe(5);
      expect(await app.metric('jobs_total')).toBe(12);
      expect(app.tail()).toContain('hello there');
      expect(readFileSync(logFile, 'utf8')).toContain('hello there');
    } finally {
      await app.stop();
    }
    expect(app.alive()).toBe(false);
  });

  it('fails with the exit code and the output when the app exits during start-up', async () => {
    const app = new AppProcess({ name: 'stand-in', main: MAIN, port: await freePort(), configFile: writeTempFile('rb-app-process-', JSON.stringify({ port: 1, exitCode: 3 })) });
    await expect(app.start()).rejects.toThrow(/stand-in exited 3: bad config/);
  });
});
