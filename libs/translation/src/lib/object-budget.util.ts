import type { Drop } from './translation.types';

/**
 * Serialized size an object may reach. etcd refuses values over 1.5 MiB by default and the API
 * server adds managedFields and istiod a status to what we send: 1 MiB leaves room for both.
 */
export const OBJECT_BYTE_BUDGET = 1024 * 1024;

// Room for the spec-hash annotation added after the size is measured.
const HASH_ANNOTATION_BYTES = 64;

/** The endpoints that fit the object's byte budget, in order; the rest are dropped with a reason. */
export function withinByteBudget<T>(endpoints: T[], skeleton: unknown, drops: Drop[]): T[] {
  let bytes = Buffer.byteLength(JSON.stringify(skeleton)) + HASH_ANNOTATION_BYTES + '"endpoints":[],'.length;
  for (let i = 0; i < endpoints.length; i++) {
    bytes += Buffer.byteLength(JSON.stringify(endpoints[i])) + 1;
    if (bytes > OBJECT_BYTE_BUDGET) {
      const count = endpoints.length - i;
      drops.push({ reason: 'endpoint-over-size', count, detail: `${count} endpoints over the ${OBJECT_BYTE_BUDGET} byte budget of one object (use endpointMode workloadEntry)` });
      return endpoints.slice(0, i);
    }
  }
  return endpoints;
}
