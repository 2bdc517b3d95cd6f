import type { RecordPort } from '@registry-bridge/source-kit';
import { consulEmitter, ConsulSourceStatus, hiddenByAcl } from './consul-source-health';
import { RecordingLog } from './consul-watch.testing';

function setup(hasToken = true) {
  const statuses: Array<{ reachable: boolean; error?: string }> = [];
  const port: RecordPort = { upsert: async () => undefined, remove: async () => undefined, snapshot: async () => undefined, sourceStatus: async (s) => void statuses.push(s) };
  const log = new RecordingLog();
  const acl: Array<[string, number]> = [];
  const status = new ConsulSourceStatus('consul-dc1', hasToken, consulEmitter('consul-dc1', { port }), log, { aclFiltered: (read, n) => void acl.push([read, n]) }, () => 1000);
  return { statuses, log, acl, status };
}

describe('hiddenByAcl', () => {
  it.each`
    filteredByAcl | defaultAclPolicy | hasToken | hidden
    ${true}       | ${undefined}     | ${true}  | ${true}
    ${false}      | ${'deny'}        | ${true}  | ${false}
    ${false}      | ${'deny'}        | ${false} | ${true}
    ${false}      | ${'allow'}       | ${false} | ${false}
  `('filtered $filteredByAcl, default policy $defaultAclPolicy, token $hasToken: $hidden', ({ filteredByAcl, defaultAclPolicy, hasToken, hidden }) => {
    expect(hiddenByAcl({ filteredByAcl, defaultAclPolicy }, hasToken)).toBe(hidden);
  });
});

describe('ConsulSourceStatus', () => {
  it('reachable on a catalog answer, unreachable on a failure, each transition logged once and sent', async () => {
    const { statuses, log, status } = setup();
    const recovered = status.recovered;
    status.catalogRead(false, 3);
    expect(recovered.aborted).toBe(true);
    expect(status.recovered.aborted).toBe(false);
    status.catalogRead(false, 3);
    status.unreachable(new Error('connect ECONNREFUSED'));
    status.unreachable(new Error('connect ECONNREFUSED'));
    expect(status.status).toMatchObject({ reachable: false, lastSuccessAt: 1000, error: 'connect ECONNREFUSED' });
    expect(log.of('info')).toEqual([expect.stringMatching(/^Consul reachable/)]);
    expect(log.of('error')).toEqual([expect.stringMatching(/^Consul unreachable/)]);
    await Promise.resolve();
    expect(statuses.map((s) => s.reachable)).toEqual([true, true, false, false]);
  });

  it('a filtered catalog is warned about once per change, naming service:read, and counted', () => {
    const { log, acl, status } = setup();
    status.catalogRead(true, 0);
    status.catalogRead(true, 2);
    expect(log.of('warn')).toEqual([expect.stringMatching(/lacks service:read on every service/)]);
    expect(status.status).toMatchObject({ conditions: { aclFiltered: true }, error: expect.stringMatching(/service:read/) });
    status.catalogRead(false, 2);
    expect(log.of('info').at(-1)).toMatch(/no longer filters/);
    expect(acl).toEqual([
      ['catalog', 1],
      ['catalog', 0],
    ]);
    expect(status.status.error).toBeUndefined();
  });

  it('without a token under default deny, the warning says to configure one', () => {
    const { log, status } = setup(false);
    status.catalogRead(true, 0);
    expect(log.of('warn')).toEqual([expect.stringMatching(/no ACL token is configured/)]);
  });

  it('counts the services whose instances Consul hides, once each', () => {
    const { acl, status } = setup();
    status.aclHiddenService('web', true);
    status.aclHiddenService('web', true);
    status.aclHiddenService('api', true);
    status.aclHiddenService('web', false);
    status.counts(5, 2);
    expect(status.status.conditions).toEqual({ aclFiltered: false, aclHiddenServices: 1, services: 5, blockingWatches: 2 });
    expect(acl).toEqual([
      ['health', 1],
      ['health', 2],
      ['health', 1],
    ]);
  });
});
