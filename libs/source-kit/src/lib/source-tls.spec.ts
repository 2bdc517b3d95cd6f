import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSourceTls, SourceTlsError, sourceTlsSchema } from './source-tls';

describe('loadSourceTls', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-source-tls-'));
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, 'CA-PEM');

  it('no tls block: no TLS material', () => {
    expect(loadSourceTls('s', undefined)).toBeUndefined();
  });

  it('reads the files once and keeps verification on unless told otherwise', () => {
    expect(loadSourceTls('s', sourceTlsSchema.parse({ caFile: ca, serverName: 'consul.internal' }))).toEqual({
      ca: Buffer.from('CA-PEM'),
      cert: undefined,
      key: undefined,
      servername: 'consul.internal',
      rejectUnauthorized: true,
    });
    expect(loadSourceTls('s', sourceTlsSchema.parse({ insecureSkipVerify: true }))?.rejectUnauthorized).toBe(false);
  });

  it.each(['caFile', 'certFile', 'keyFile'] as const)('a missing %s is an error naming the key and the file', (key) => {
    const tls = sourceTlsSchema.parse(key === 'caFile' ? { caFile: join(dir, 'nope.pem') } : { certFile: key === 'certFile' ? join(dir, 'nope.pem') : ca, keyFile: key === 'keyFile' ? join(dir, 'nope.pem') : ca });
    const attempt = () => loadSourceTls('consul-a', tls);
    expect(attempt).toThrow(SourceTlsError);
    expect(attempt).toThrow(`tls.${key}: cannot read ${join(dir, 'nope.pem')}: ENOENT`);
  });

  it('certFile and keyFile go together', () => {
    expect(sourceTlsSchema.safeParse({ certFile: ca }).success).toBe(false);
  });
});
