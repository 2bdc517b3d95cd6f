import { DiffReport } from './plan-diff';
import { renderJson, renderText } from './render-diff';

const meta = { installation: 'prod', server: 'https://k:6443', namespaces: ['mesh'], sources: [{ source: 'consul-dc1', kind: 'consul' as const, complete: true, services: 3 }] };
const report: DiffReport = {
  added: [{ kind: 'ServiceEntry', namespace: 'mesh', name: 'consul-dc1-web-1', key: 'consul-dc1//web', host: 'web.service.consul', object: {} }],
  changed: [{ kind: 'ServiceEntry', namespace: 'mesh', name: 'consul-dc1-api-2', key: 'consul-dc1//api', fields: [{ path: 'spec.endpoints[1].address', old: '10.0.0.2', new: '10.0.0.3' }, { path: 'spec.endpoints[2]', old: undefined, new: { address: '10.0.0.4' } }] }],
  deleted: [{ kind: 'ServiceEntry', namespace: 'mesh', name: 'consul-dc1-old-3', key: 'consul-dc1//old', why: 'gone' }],
  refused: [{ key: 'consul-dc1//pay', source: 'consul-dc1', reason: 'host-not-allowed', detail: 'outside' }],
  unchanged: [{ kind: 'ServiceEntry', namespace: 'mesh', name: 'x', key: 'consul-dc1//x' }],
  warnings: [],
  errors: [],
};

describe('renderText', () => {
  it('prints every section with field-level changes', () => {
    expect(renderText(report, meta)).toBe(
      [
        'registry-bridge diff (dry run, nothing written): installation prod, cluster https://k:6443, namespaces mesh',
        'sources read: consul-dc1 (consul, 3 services)',
        '',
        'Added (1):',
        '  + ServiceEntry mesh/consul-dc1-web-1  consul-dc1//web  host web.service.consul',
        '',
        'Changed (1):',
        '  ~ ServiceEntry mesh/consul-dc1-api-2  consul-dc1//api',
        '      spec.endpoints[1].address: 10.0.0.2 → 10.0.0.3',
        '      spec.endpoints[2]: (unset) → {"address":"10.0.0.4"}',
        '',
        'Deleted (1):',
        '  - ServiceEntry mesh/consul-dc1-old-3  consul-dc1//old: gone',
        '',
        'Refused (1):',
        '  ! consul-dc1//pay  host-not-allowed: outside',
        '',
        'Unchanged: 1 object',
        'Summary: 1 to add, 1 to change, 1 to delete, 1 refused, 1 unchanged',
        '',
      ].join('\n'),
    );
  });

  it('says when the diff is incomplete', () => {
    const text = renderText({ ...report, errors: ['source consul-dc1 (consul): unreachable'] }, { ...meta, sources: [{ ...meta.sources[0], error: 'unreachable' }] });
    expect(text).toContain('consul-dc1 (consul, FAILED)');
    expect(text).toContain('  x source consul-dc1 (consul): unreachable');
    expect(text).toMatch(/1 error: the diff is incomplete\n$/);
  });
});

describe('renderJson', () => {
  it('carries the exit code and counts', () => {
    const json = JSON.parse(renderJson(report, meta));
    expect(json).toMatchObject({ exitCode: 2, unchanged: 1, installation: 'prod' });
    expect(json.changed[0].fields[0]).toEqual({ path: 'spec.endpoints[1].address', old: '10.0.0.2', new: '10.0.0.3' });
  });
});
