import { RegistryKind } from '@registry-bridge/contract';

// Every key starts with the configured prefix (a `{hash tag}` by default), so in Redis Cluster
// all collector keys share one slot with the queues and multi-key scripts stay legal.
export const membersKey = (prefix: string, kind: RegistryKind) => `${prefix}:collector:${kind}:members`;
export const leaseKey = (prefix: string, kind: RegistryKind, name: string) => `${prefix}:collector:${kind}:lease:${name}`;
