/**
 * Eureka's REST API does not expose self-preservation. The server's dashboard (Spring Cloud
 * Netflix `EurekaController`, `GET /` by default) does: it prints fixed banners derived from
 * `isBelowRenewThresold()` and `isSelfPreservationModeEnabled()`. This reads those banners.
 */
export interface SelfPreservationState {
  /** true: renewals are below the threshold and expiry is suspended (Eureka may list dead instances as UP). */
  active: boolean;
  /** Whether the server has self-preservation switched on at all. */
  enabled: boolean;
  /** Renewals in the last minute are at or below the threshold. */
  belowRenewThreshold: boolean;
}

const EMERGENCY = 'EMERGENCY! EUREKA MAY BE INCORRECTLY CLAIMING INSTANCES ARE UP';
const BELOW_BUT_OFF = 'RENEWALS ARE LESSER THAN THE THRESHOLD. THE SELF PRESERVATION MODE IS TURNED OFF';
const TURNED_OFF = 'THE SELF PRESERVATION MODE IS TURNED OFF';
// Present on every rendering of the dashboard, so an unrelated HTML page is not read as "all fine".
const DASHBOARD_MARKERS = ['DS Replicas', 'Instances currently registered with Eureka', 'General Info'];

/** Undefined when the page is not a Eureka dashboard (disabled, moved, or a proxy's page). */
export function parseSelfPreservation(html: string): SelfPreservationState | undefined {
  if (!DASHBOARD_MARKERS.some((m) => html.includes(m))) return undefined;
  if (html.includes(EMERGENCY)) return { active: true, enabled: true, belowRenewThreshold: true };
  if (html.includes(BELOW_BUT_OFF)) return { active: false, enabled: false, belowRenewThreshold: true };
  if (html.includes(TURNED_OFF)) return { active: false, enabled: false, belowRenewThreshold: false };
  return { active: false, enabled: true, belowRenewThreshold: false };
}
