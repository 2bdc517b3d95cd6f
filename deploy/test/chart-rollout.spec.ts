import { CI_VALUES, K8sObject, render } from './chart';

// Each registry is upgraded on its own (issue 18): a change to one app's config rolls that app's
// pods (the config checksum in its pod template) and no other Deployment's.

const checksums = (objs: K8sObject[]) =>
  Object.fromEntries(
    objs
      .filter((o) => o.kind === 'Deployment')
      .map((o) => [o.metadata.name, (o as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata.annotations['checksum/config']]),
  );

describe('config checksums', () => {
  const base = checksums(render({ valuesFiles: [CI_VALUES[0]] }));

  it.each([
    ['collector-eureka', { collectors: { eureka: { config: { collector: { heartbeatSeconds: 7 } } } } }],
    ['collector-consul', { collectors: { consul: { config: { collector: { heartbeatSeconds: 7 } } } } }],
    ['collector-cloudmap', { collectors: { cloudmap: { config: { collector: { heartbeatSeconds: 7 } } } } }],
  ])('a change to the %s config changes only its own pod template', (app, values) => {
    const after = checksums(render({ valuesFiles: [CI_VALUES[0]], values }));
    const changed = Object.keys(base).filter((name) => base[name] !== after[name]);
    expect(changed).toEqual([`rb-registry-bridge-${app}`]);
  });
});
