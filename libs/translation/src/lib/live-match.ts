import { canonicalJson } from './spec-hash.util';

/** What is compared of a live object: its spec as canonical JSON, its labels and annotations. */
export interface LiveView {
  specJson: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * True when the live object already carries exactly what we would write (hand edits count as
 * drift). Extra labels or annotations that others added are not ours to judge. Shared by the
 * writer (no-op detection) and the dry-run CLI, so both call the same objects "unchanged".
 */
export function matches(desired: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: unknown }, live: LiveView): boolean {
  if (canonicalJson(desired.spec) !== live.specJson) return false;
  for (const [k, v] of Object.entries(desired.metadata.labels)) if (live.labels[k] !== v) return false;
  for (const [k, v] of Object.entries(desired.metadata.annotations)) if (live.annotations[k] !== v) return false;
  return true;
}
