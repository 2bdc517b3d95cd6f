import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSelfPreservation } from './self-preservation';

// Pages captured from the real Spring Cloud Netflix Eureka server used by scripts/peers.sh.
const fixture = (name: string) => readFileSync(join(__dirname, '__fixtures__', name), 'utf8');
const page = (banner = '', leaseExpiration = 'true') =>
  `<h1>System Status</h1><table><tr><td>Lease expiration enabled</td><td>${leaseExpiration}</td></tr><tr><td>Renews threshold</td><td>85</td></tr><tr><td>Renews (last min)</td><td>120</td></tr></table>${banner}<h1>DS Replicas</h1><h1>Instances currently registered with Eureka</h1>`;

describe('parseSelfPreservation', () => {
  it('reads the emergency banner of a real server in self-preservation', () => {
    expect(parseSelfPreservation(fixture('dashboard-self-preservation.html'))).toEqual({
      active: true,
      enabled: true,
      belowRenewThreshold: true,
      renewsThreshold: 3,
      renewsLastMin: 0,
    });
  });

  it('reads a real server with self-preservation switched off', () => {
    expect(parseSelfPreservation(fixture('dashboard-self-preservation-off.html'))).toMatchObject({ active: false, enabled: false, belowRenewThreshold: true });
  });

  it.each([
    ['no banner', page(), { active: false, enabled: true, belowRenewThreshold: false, renewsThreshold: 85, renewsLastMin: 120 }],
    ['no banner but lease expiration off', page('', 'false'), { active: true, enabled: true, belowRenewThreshold: false, renewsThreshold: 85, renewsLastMin: 120 }],
    [
      'self-preservation off, above threshold',
      page('<b>THE SELF PRESERVATION MODE IS TURNED OFF. THIS MAY NOT PROTECT INSTANCE EXPIRY IN CASE OF NETWORK/OTHER PROBLEMS.</b>'),
      { active: false, enabled: false, belowRenewThreshold: false, renewsThreshold: 85, renewsLastMin: 120 },
    ],
  ])('%s', (_name, html, expected) => {
    expect(parseSelfPreservation(html)).toEqual(expected);
  });

  it('reads a real dashboard whose instance list failed to render (Amazon instances)', () => {
    expect(parseSelfPreservation(fixture('dashboard-template-error.html'))).toMatchObject({ active: false, enabled: false, belowRenewThreshold: false });
  });

  it('does not read an unrelated page as a healthy dashboard', () => {
    expect(parseSelfPreservation('<html>Welcome to nginx</html>')).toBeUndefined();
  });
});
