import { createServer } from 'node:net';

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(undefined));
    s.listen(port, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/**
 * A loopback port nobody listens on right now, below Linux's ephemeral range (32768 up) so the
 * outgoing connections of the tests themselves cannot take it before the peer binds it.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tryListen(26_000 + Math.floor(Math.random() * 6_700));
    if (p) return p;
  }
  const any = await tryListen(0);
  if (!any) throw new Error('no free loopback port');
  return any;
}
