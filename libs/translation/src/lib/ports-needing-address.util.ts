/**
 * Protocols whose sidecar listener matches on destination address and port only (HTTP is told
 * apart by Host, HTTPS and TLS by SNI): without an address of its own such a port shares the
 * listener `0.0.0.0:<port>` with every other service on that port.
 */
export const ADDRESS_MATCHED_PROTOCOLS: readonly string[] = ['TCP', 'MONGO', 'MYSQL', 'REDIS'];

/**
 * Names of the ports of a (live) ServiceEntry that need an address it does not have yet: none in
 * `spec.addresses` and none allocated by istiod in `status.addresses` (its IP auto-allocation
 * controller, PILOT_ENABLE_IP_AUTOALLOCATE, on by default since Istio 1.25). Resolution NONE never
 * gets one. For the writer's status and metric of TCP entries without an address.
 */
export function portsNeedingAddress(se: { spec?: { ports?: Array<{ name?: string; number?: number; protocol?: string }>; addresses?: string[]; resolution?: string }; status?: unknown }): string[] {
  if (!se.spec || se.spec.resolution === 'NONE') return [];
  const allocated = ((se.status as { addresses?: Array<{ value?: string }> } | undefined)?.addresses ?? []).filter((a) => a?.value);
  if ((se.spec.addresses ?? []).length > 0 || allocated.length > 0) return [];
  return (se.spec.ports ?? []).filter((p) => ADDRESS_MATCHED_PROTOCOLS.includes((p.protocol ?? 'TCP').toUpperCase())).map((p) => p.name ?? String(p.number));
}
