// The built writer as the integration tests run it: least-privilege identity, test-paced leader
// election and deletion, one namespace of its own.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { AppProcess, writeTempFile } from './app-process';
import type { PeersEnv } from './peers-env';

const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
export const WRITER_MAIN = join(WORKSPACE_ROOT, 'dist/apps/writer/main.js');
/** The writer's RBAC as deploy/ ships it (placeholders NAMESPACE, LEASE_NAMESPACE, SUBJECT). */
export const WRITER_RBAC = join(WORKSPACE_ROOT, 'deploy/manifests/writer-rbac.yaml');

export interface TestWriterOptions {
  peers: PeersEnv;
  /** Where it writes and holds its Lease (KubeAdmin.writerNamespace grants it there). */
  namespace: string;
  /** BullMQ prefix of this test run. */
  prefix: string;
  installation: string;
  sources: Record<string, { kind: 'consul' | 'eureka' | 'cloudmap'; [k: string]: unknown }>;
  port: number;
  /** Top-level keys that replace the defaults (reconcile, deletion, ...). */
  overrides?: Record<string, unknown>;
}

/** The writer config of a test: a 6 s Lease, a 2 s deletion grace, the writer's own kubeconfig. */
export function testWriterConfig(o: TestWriterOptions): Record<string, unknown> {
  return {
    installation: o.installation,
    http: { port: o.port, host: '127.0.0.1' },
    redis: { url: o.peers.redisUrl, prefix: o.prefix },
    kubernetes: { kubeconfig: o.peers.kube.writerKubeconfig },
    leaderElection: { namespace: o.namespace, leaseName: 'writer', leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 },
    deletion: { gracePeriodSeconds: 2, sourceSilenceSeconds: 30 },
    defaults: { namespace: o.namespace },
    sources: o.sources,
    ...o.overrides,
  };
}

/** Starts the built writer with `testWriterConfig` and waits until it is live. */
export function startTestWriter(o: TestWriterOptions): Promise<AppProcess> {
  if (!existsSync(WRITER_MAIN)) throw new Error(`${WRITER_MAIN} is missing: run \`npx nx build writer\` first`);
  const configFile = writeTempFile('rb-test-writer-', stringify(testWriterConfig(o)));
  return new AppProcess({ name: 'writer', main: WRITER_MAIN, port: o.port, configFile, env: { RB__log__level: 'info' } }).start();
}
