import { parseSelfPreservation } from './self-preservation';

const page = (banner = '') => `<html><h1>System Status</h1>${banner}<h1>DS Replicas</h1><h1>Instances currently registered with Eureka</h1></html>`;

describe('parseSelfPreservation', () => {
  it.each([
    ['no banner', page(), { active: false, enabled: true, belowRenewThreshold: false }],
    [
      'the emergency banner',
      page("<b>EMERGENCY! EUREKA MAY BE INCORRECTLY CLAIMING INSTANCES ARE UP WHEN THEY'RE NOT. RENEWALS ARE LESSER THAN THRESHOLD AND HENCE THE INSTANCES ARE NOT BEING EXPIRED JUST TO BE SAFE.</b>"),
      { active: true, enabled: true, belowRenewThreshold: true },
    ],
    [
      'below threshold with self-preservation off',
      page('<b>RENEWALS ARE LESSER THAN THE THRESHOLD. THE SELF PRESERVATION MODE IS TURNED OFF. THIS MAY NOT PROTECT INSTANCE EXPIRY IN CASE OF NETWORK/OTHER PROBLEMS.</b>'),
      { active: false, enabled: false, belowRenewThreshold: true },
    ],
    ['self-preservation off', page('<b>THE SELF PRESERVATION MODE IS TURNED OFF. THIS MAY NOT PROTECT INSTANCE EXPIRY IN CASE OF NETWORK/OTHER PROBLEMS.</b>'), { active: false, enabled: false, belowRenewThreshold: false }],
  ])('%s', (_name, html, expected) => {
    expect(parseSelfPreservation(html)).toEqual(expected);
  });

  it('does not read an unrelated page as a healthy dashboard', () => {
    expect(parseSelfPreservation('<html>Welcome to nginx</html>')).toBeUndefined();
  });
});
