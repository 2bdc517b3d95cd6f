/**
 * Next revision of a service key. Eureka's timestamps (lastDirtyTimestamp is set by the instance's
 * own clock) are used when they move forward; otherwise, and after a restart or takeover where
 * the last revision is unknown, the local clock is the floor, so a newer view never carries a
 * lower revision than an older one (e.g. removing the newest instance of an app).
 */
export function nextRevision(registryRevision: number, last: number | undefined, now: number): number {
  if (last === undefined) return Math.max(registryRevision, now);
  return registryRevision > last ? registryRevision : Math.max(last + 1, now);
}
