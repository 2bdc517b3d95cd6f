import { withHash } from '@registry-bridge/translation';
import type { CachedObject } from './object-cache.service';

/** Annotation on an object emptied because its key is refused: the reason, for `kubectl get -o yaml`. */
export const REFUSED_ANNOTATION = 'registry-bridge.io/refused';

/** What the emptying needs of the live object (the watch cache's view). */
export type LiveServiceEntry = Pick<CachedObject, 'namespace' | 'name' | 'uid' | 'specJson' | 'labels' | 'annotations'>;

/**
 * The ServiceEntry of a refused key, emptied: no endpoints (inline) and, with its WorkloadEntries
 * deleted, none selected; resolution STATIC so that Envoy never falls back to resolving the host
 * itself. Hosts, ports and selector stay, so routes that name the host keep a target with no
 * traffic. Only our own annotations are carried; the hash covers the result like any object we write.
 */
export function emptiedServiceEntry(live: LiveServiceEntry, reason: string) {
  const spec = { ...(JSON.parse(live.specJson) as Record<string, unknown>) };
  delete spec['endpoints'];
  spec['resolution'] = 'STATIC';
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(live.annotations)) if (k.startsWith('registry-bridge.io/')) annotations[k] = v;
  annotations[REFUSED_ANNOTATION] = reason.slice(0, 1000);
  return withHash({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: live.name, namespace: live.namespace, labels: { ...live.labels }, annotations },
    spec,
  });
}
