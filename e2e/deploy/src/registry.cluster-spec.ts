// Issue 18, item 2: what a user pulls. The images and the chart go to the local OCI registry
// (scripts/peers/registry.sh) and come back from it unchanged: the same image config, and a chart
// that renders the registry's image names.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { APPS, imageConfig, imageRef, WORKSPACE } from './support/images';

// Builds, pulls and rollouts take minutes on a loaded 2-core machine (set here: the Nx executor
// ignores testTimeout in the project config).
jest.setTimeout(300_000);

const sh = (args: string[]) => execFileSync('bash', args, { cwd: WORKSPACE, encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
const version = imageRef('writer').split(':').pop() as string;

describe('the local OCI registry', () => {
  let registry: string;
  let helm: string;

  beforeAll(() => {
    sh(['scripts/peers/registry.sh', 'up']);
    sh(['scripts/peers/registry.sh', 'push']);
    registry = sh(['scripts/peers/registry.sh', 'env']).replace(/^RB_OCI_REGISTRY=/, '');
    helm = sh(['scripts/tools.sh', 'helm']);
  });

  it.each(APPS)('serves the %s image exactly as it was built', (app) => {
    const pulled = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${registry}/registry-bridge/${app}:${version}`], { encoding: 'utf8' })) as unknown;
    expect(pulled).toEqual(imageConfig(imageRef(app)));
  });

  it('serves the chart as OCI, and the pulled chart renders the images from that registry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-chart-pull-'));
    execFileSync(helm, ['pull', `oci://${registry}/charts/registry-bridge`, '--version', version, '--plain-http', '-d', dir]);
    const [tgz] = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    expect(tgz).toBe(`registry-bridge-${version}.tgz`);
    // Every collector on (Eureka and Cloud Map are off by default), each image from that registry.
    const image = { image: { registry } };
    const values = join(dir, 'values.yaml');
    writeFileSync(
      values,
      stringify({
        writer: image,
        collectors: {
          consul: image,
          eureka: { ...image, enabled: true, sources: [{ name: 'eureka-a', serviceUrls: ['http://eureka.example:8761/eureka'] }] },
          cloudmap: { ...image, enabled: true, sources: [{ name: 'cloudmap-a', region: 'eu-west-1' }] },
        },
      }),
    );
    const out = execFileSync(helm, ['template', 'rb', join(dir, tgz), '-f', values], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const images = parseAllDocuments(out)
      .map((d) => d.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: Array<{ image: string }> } } } })
      .filter((d) => d?.kind === 'Deployment')
      .flatMap((d) => d.spec?.template?.spec?.containers?.map((c) => c.image) ?? []);
    expect(images.sort()).toEqual(APPS.map((a) => `${registry}/registry-bridge/${a}:${version}`).sort());
  });
});
