import { KubeClient, KubeObject } from '@registry-bridge/kube';
import { sourceRules } from '@registry-bridge/translation';
import { DiffArgs } from './cli-args';
import { loadCollectorSources, loadWriterConfig } from './load-configs';
import { DiffReport, LiveObject, ObjectKind, planDiff } from './plan-diff';
import { DiffMeta } from './render-diff';
import { Diagnostics, readSource } from './source-readers';

const API_VERSION = 'networking.istio.io/v1';

/**
 * LISTs ServiceEntries and WorkloadEntries of the namespaces the writer writes to: all of them,
 * not only ours, since foreign hosts and names decide refusals. GET/LIST only, never a write.
 */
export async function readCluster(kube: KubeClient, namespaces: string[]): Promise<LiveObject[]> {
  const out: LiveObject[] = [];
  for (const ns of namespaces) {
    for (const kind of ['ServiceEntry', 'WorkloadEntry'] as ObjectKind[]) {
      for (const o of await kube.list<KubeObject>(API_VERSION, kind, ns)) out.push({ kind, metadata: o.metadata, spec: o.spec });
    }
  }
  return out;
}

export async function runDiff(args: DiffArgs, diag: Diagnostics): Promise<{ report: DiffReport; meta: DiffMeta }> {
  const writer = loadWriterConfig(args.writerConfig);
  const sources = args.collectorConfigs.flatMap((c) => loadCollectorSources(c.kind, c.file));
  const names = new Set<string>();
  for (const s of sources) {
    if (names.has(s.config.name)) throw new Error(`source ${s.config.name} is in more than one collector config`);
    names.add(s.config.name);
  }
  const rules = sourceRules(writer);
  const namespaces = [...new Set([...rules.values()].map((r) => r.namespace))].sort();
  const kube = KubeClient.fromOptions({
    kubeconfig: args.kubeconfig ?? writer.kubernetes.kubeconfig,
    context: args.context ?? writer.kubernetes.context,
    qps: writer.kubernetes.qps,
    burst: writer.kubernetes.burst,
    maxAttempts: writer.kubernetes.maxAttempts,
    fieldManager: writer.kubernetes.fieldManager,
  });
  // The registries and the cluster are read side by side; each source on its own.
  const [reads, live] = await Promise.all([Promise.all(sources.map((s) => readSource(s, args.timeoutSeconds * 1000, diag))), readCluster(kube, namespaces)]);
  const report = planDiff({ installation: writer.installation, rules, reads, live, deletion: writer.deletion });
  const meta: DiffMeta = {
    installation: writer.installation,
    server: kube.server,
    namespaces,
    sources: reads.map((r) => ({ source: r.source, kind: r.kind, complete: r.complete, services: r.records.length, ...(r.error ? { error: r.error } : {}) })),
  };
  return { report, meta };
}
