import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTls, TlsFileError } from './tls-files';

const dir = mkdtempSync(join(tmpdir(), 'rb-tls-'));
const pem = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('loadTls', () => {
  it('reads the files and maps the block to Node options', () => {
    const tls = loadTls({ caFile: pem('ca.pem', 'CA'), certFile: pem('c.pem', 'CERT'), keyFile: pem('k.pem', 'KEY'), serverName: 'reg.internal', insecureSkipVerify: false });
    expect({ ...tls, ca: String(tls.ca), cert: String(tls.cert), key: String(tls.key) }).toEqual({ ca: 'CA', cert: 'CERT', key: 'KEY', servername: 'reg.internal', rejectUnauthorized: true });
  });

  it('turns verification off only when asked, and sets nothing it was not given', () => {
    expect(loadTls({ insecureSkipVerify: true })).toEqual({ rejectUnauthorized: false });
  });

  it('names the key and the file that cannot be read, never any content', () => {
    const ca = pem('secret-ca.pem', 'TOP-SECRET');
    let error: unknown;
    try {
      loadTls({ caFile: ca, keyFile: join(dir, 'missing.pem'), certFile: ca });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TlsFileError);
    expect((error as Error).message).toBe(`tls.keyFile: cannot read ${join(dir, 'missing.pem')}: ENOENT`);
  });
});
