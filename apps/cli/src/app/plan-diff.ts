import { describeIssues, parseServiceKey, serviceKey, serviceRecordSchema } from '@registry-bridge/contract';
import { ANNOTATIONS, canonicalJson, deletionBudget, isOwnedBy, LABELS, matches, ServiceEntryObject, SourceRules, translateRecord, WorkloadEntryObject } from '@registry-bridge/translation';
import type { SourceRead } from '@registry-bridge/source-kit';
import { FieldChange, fieldDiff } from './field-diff';

/** What one complete read of one configured collector source gave: a registry adapter's read(). */
export type { SourceRead };
export type ObjectKind = 'ServiceEntry' | 'WorkloadEntry';

/** A live object as listed from the API server (only the parts the diff reads). */
export interface LiveObject {
  kind: ObjectKind;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
}

export interface DeletionPolicy {
  gracePeriodSeconds: number;
  maxDeletes: number;
  maxDeletePercent: number;
}

export interface PlanInput {
  installation: string;
  rules: Map<string, SourceRules>;
  reads: SourceRead[];
  live: LiveObject[];
  deletion: DeletionPolicy;
}

export interface ObjectRef {
  kind: ObjectKind;
  namespace: string;
  name: string;
  /** Service key the object belongs to. */
  key: string;
}

export interface Added extends ObjectRef {
  host?: string;
  object: unknown;
}
export interface Changed extends ObjectRef {
  fields: FieldChange[];
}
export interface Deleted extends ObjectRef {
  why: string;
}
export interface Refused {
  key: string;
  source: string;
  reason: string;
  detail: string;
  host?: string;
}

export interface DiffReport {
  added: Added[];
  changed: Changed[];
  deleted: Deleted[];
  refused: Refused[];
  unchanged: ObjectRef[];
  /** Things an operator should know that are not changes (skipped sources, tripped guards). */
  warnings: string[];
  /** Reads that failed: the diff is incomplete and the exit code is 1. */
  errors: string[];
}

const nsOf = (o: LiveObject) => o.metadata.namespace ?? '';
const idOf = (namespace: string, name: string) => `${namespace}/${name}`;

/** The diff of one desired object against its live twin, as the writer compares them (see `matches`). */
function compare(desired: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: unknown }, live: LiveObject): FieldChange[] | undefined {
  const liveView = { specJson: canonicalJson(live.spec ?? {}), labels: live.metadata.labels ?? {}, annotations: live.metadata.annotations ?? {} };
  if (matches(desired, liveView)) return undefined;
  const pick = (from: Record<string, string>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, from[k]]));
  const labelKeys = Object.keys(desired.metadata.labels);
  const annotationKeys = Object.keys(desired.metadata.annotations);
  const fields = fieldDiff(
    { metadata: { labels: pick(liveView.labels, labelKeys), annotations: pick(liveView.annotations, annotationKeys) }, spec: live.spec ?? {} },
    { metadata: { labels: desired.metadata.labels, annotations: desired.metadata.annotations }, spec: desired.spec },
  );
  // The spec hash follows every other change; alone it is worth showing, beside others it is noise.
  const hashPath = `metadata.annotations[${JSON.stringify(ANNOTATIONS.specHash)}]`;
  const others = fields.filter((f) => f.path !== hashPath);
  return others.length ? others : fields;
}

/**
 * What the writer would do with one complete read of every given source against the live
 * cluster: pure, so every rule of the writer that it mirrors is table-tested. The writer's rules
 * mirrored here: translation refusals, foreign hosts (`HostIndex.foreignHolder`), host claims
 * between keys (first holder keeps it), name collisions with objects it does not own, no-op
 * detection (`matches`), WorkloadEntry sync, and deletion only of owned objects of configured
 * sources whose key is missing from a complete snapshot, under the deletion budget.
 */
export function planDiff(input: PlanInput): DiffReport {
  const report: DiffReport = { added: [], changed: [], deleted: [], refused: [], unchanged: [], warnings: [], errors: [] };
  const { installation, rules } = input;

  const serviceEntries = new Map<string, LiveObject>();
  const ownedByKey = new Map<string, LiveObject>();
  const foreignHosts = new Map<string, string[]>();
  const workloadEntries = new Map<string, LiveObject[]>();
  for (const o of input.live) {
    const owned = isOwnedBy(o.metadata, installation);
    if (o.kind === 'ServiceEntry') {
      serviceEntries.set(idOf(nsOf(o), o.metadata.name), o);
      const key = o.metadata.annotations?.[ANNOTATIONS.serviceKey];
      if (owned && key) ownedByKey.set(key, o);
      if (!owned) {
        for (const h of (o.spec as { hosts?: string[] } | undefined)?.hosts ?? []) {
          foreignHosts.set(h, [...(foreignHosts.get(h) ?? []), idOf(nsOf(o), o.metadata.name)]);
        }
      }
    } else if (owned && o.metadata.labels?.[LABELS.serviceEntry]) {
      const id = idOf(nsOf(o), o.metadata.labels[LABELS.serviceEntry]);
      workloadEntries.set(id, [...(workloadEntries.get(id) ?? []), o]);
    }
  }

  const readBySource = new Map(input.reads.map((r) => [r.source, r]));
  for (const r of input.reads) {
    if (r.error) report.errors.push(`source ${r.source} (${r.kind}): ${r.error}`);
    for (const u of r.unread) report.errors.push(`source ${r.source}: ${u.key} could not be read: ${u.error}`);
    for (const n of r.notes ?? []) report.warnings.push(`source ${r.source}: ${n}`);
    if (!r.error && !r.complete) report.warnings.push(`source ${r.source}: the registry listing may be partial, so deletions of this source are not assessed`);
  }
  for (const source of rules.keys()) {
    if (!readBySource.has(source)) report.warnings.push(`source ${source} is configured in the writer but no collector config reads it: its objects are not compared`);
  }

  // 1. Translate every record, as the writer would on ingest and reconcile.
  type Candidate = { key: string; source: string; host: string; rules: SourceRules; se: ServiceEntryObject; wes: WorkloadEntryObject[] };
  const candidates: Candidate[] = [];
  const readKeys = new Set<string>();
  const records = input.reads.flatMap((r) => r.records);
  for (const raw of records) {
    const source = raw.source?.name ?? '?';
    const key = serviceKey({ source, scope: raw.scope, service: raw.service });
    readKeys.add(key);
    const parsed = serviceRecordSchema.safeParse(raw);
    if (!parsed.success) {
      report.refused.push({ key, source, reason: 'invalid-record', detail: `the writer dead-letters it: ${describeIssues(parsed.error)}` });
      continue;
    }
    const sourceRules = rules.get(source);
    if (!sourceRules) {
      report.refused.push({ key, source, reason: 'source-not-configured', detail: `source ${source} is not in the writer's sources: its messages go to the dead-letter queue` });
      continue;
    }
    const res = translateRecord(parsed.data, sourceRules);
    if (!res.ok) {
      report.refused.push({ key, source, reason: res.reason, detail: res.detail, ...(res.host ? { host: res.host } : {}) });
      continue;
    }
    candidates.push({ key, source, host: res.host, rules: sourceRules, se: res.serviceEntry, wes: res.workloadEntries });
  }
  candidates.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  // 2. Who holds each host: the key whose live object already has it, else the first key.
  // A key that moves to another host releases its old one when it is applied.
  const wanted = new Map(candidates.map((c) => [c.key, c.host]));
  const holders = new Map<string, string>();
  for (const [key, o] of ownedByKey) {
    for (const h of (o.spec as { hosts?: string[] } | undefined)?.hosts ?? []) {
      if (!holders.has(h) && (wanted.get(key) ?? h) === h) holders.set(h, key);
    }
  }
  for (const c of candidates) if (!holders.has(c.host)) holders.set(c.host, c.key);

  for (const c of candidates) {
    const { namespace, name } = c.se.metadata;
    const id = idOf(namespace, name);
    const refuse = (reason: string, detail: string) => report.refused.push({ key: c.key, source: c.source, reason, detail, host: c.host });
    const foreign = (foreignHosts.get(c.host) ?? []).find((f) => f !== id);
    if (foreign) {
      refuse('host-collision', `host ${c.host} is already used by ServiceEntry ${foreign} (not managed by this installation)`);
      continue;
    }
    const holder = holders.get(c.host);
    if (holder && holder !== c.key) {
      refuse('host-collision', `host ${c.host} is already claimed by service ${holder}`);
      continue;
    }
    const live = serviceEntries.get(id);
    if (live && !isOwnedBy(live.metadata, installation)) {
      refuse('name-collision', `ServiceEntry ${id} exists and is not managed by registry-bridge installation ${installation}; left alone`);
      continue;
    }
    const ref = { kind: 'ServiceEntry' as const, namespace, name, key: c.key };
    if (!live) report.added.push({ ...ref, host: c.host, object: c.se });
    else {
      const fields = compare(c.se, live);
      if (fields) report.changed.push({ ...ref, fields });
      else report.unchanged.push(ref);
    }
    // WorkloadEntries are synced in workloadEntry mode, and after a switch to inline (to remove them).
    const liveWes = workloadEntries.get(id) ?? [];
    if (c.rules.endpointMode !== 'workloadEntry' && liveWes.length === 0) continue;
    const byName = new Map(liveWes.map((w) => [w.metadata.name, w]));
    for (const we of c.wes) {
      const cur = byName.get(we.metadata.name);
      byName.delete(we.metadata.name);
      const weRef = { kind: 'WorkloadEntry' as const, namespace, name: we.metadata.name, key: c.key };
      if (!cur) report.added.push({ ...weRef, object: we });
      else {
        const fields = compare(we, cur);
        if (fields) report.changed.push({ ...weRef, fields });
        else report.unchanged.push(weRef);
      }
    }
    for (const stale of byName.values()) {
      report.deleted.push({ kind: 'WorkloadEntry', namespace, name: stale.metadata.name, key: c.key, why: 'instance no longer listed (or not healthy) for this service: deleted when the service is applied' });
    }
  }

  // 3. Orphans: owned objects of a configured source whose key a complete read no longer lists.
  const grace = input.deletion.gracePeriodSeconds;
  const perSource = new Map<string, { deletes: number; known: Set<string> }>();
  let notConfigured = 0;
  for (const [key, o] of [...ownedByKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let source: string;
    try {
      source = parseServiceKey(key).source;
    } catch {
      continue;
    }
    if (!rules.has(source)) {
      notConfigured += 1;
      continue;
    }
    const read = readBySource.get(source);
    const stats = perSource.get(source) ?? { deletes: 0, known: new Set(read?.snapshotKeys ?? []) };
    perSource.set(source, stats);
    stats.known.add(key);
    if (!read || read.error || !read.complete || !read.snapshotKeys) continue;
    if (readKeys.has(key) || read.snapshotKeys.includes(key)) continue;
    const namespace = nsOf(o);
    report.deleted.push({
      kind: 'ServiceEntry',
      namespace,
      name: o.metadata.name,
      key,
      why: `no longer in the registry: would be deleted after the grace period (${grace}s), subject to the deletion budget`,
    });
    for (const we of workloadEntries.get(idOf(namespace, o.metadata.name)) ?? []) {
      report.deleted.push({ kind: 'WorkloadEntry', namespace, name: we.metadata.name, key, why: `with its ServiceEntry ${o.metadata.name}` });
    }
    stats.deletes += 1;
  }
  for (const [source, { deletes, known }] of perSource) {
    const total = Math.max(known.size, 1);
    const budget = deletionBudget(input.deletion, total);
    if (deletes > budget) {
      report.warnings.push(`source ${source}: ${deletes} of ${total} services would be removed at once, over the deletion budget of ${budget}: the writer's guard would hold them all`);
    }
  }
  if (notConfigured) report.warnings.push(`${notConfigured} owned ServiceEntries belong to sources no longer configured: the writer leaves them alone`);

  const byRef = (a: ObjectRef, b: ObjectRef) => canonicalJson([a.namespace, a.kind, a.name]).localeCompare(canonicalJson([b.namespace, b.kind, b.name]));
  report.added.sort(byRef);
  report.changed.sort(byRef);
  report.deleted.sort(byRef);
  report.unchanged.sort(byRef);
  report.refused.sort((a, b) => a.key.localeCompare(b.key));
  return report;
}

/** 2 when the writer would write something, 0 when not, 1 when a read failed (the diff is incomplete). */
export function exitCodeOf(report: DiffReport): 0 | 1 | 2 {
  if (report.errors.length) return 1;
  return report.added.length + report.changed.length + report.deleted.length > 0 ? 2 : 0;
}
