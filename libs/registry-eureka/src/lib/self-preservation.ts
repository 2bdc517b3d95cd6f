/**
 * Eureka's REST API (`/eureka/apps...`) does not expose self-preservation, and the server's
 * `/eureka/status` answers 500 on Spring Cloud Netflix; its actuator only has `health`. The
 * dashboard (Spring Cloud Netflix `EurekaController`, `GET /` by default) does show it: a table
 * with "Lease expiration enabled", "Renews threshold", "Renews (last min)" and fixed banners
 * derived from `isBelowRenewThresold()` and `isSelfPreservationModeEnabled()`. This reads those.
 */
export interface SelfPreservationState {
  /** true: expiry is suspended (self-preservation on and renewals at or below the threshold); dead instances may be listed UP. */
  active: boolean;
  /** Whether the server has self-preservation switched on at all. */
  enabled: boolean;
  /** Renewals in the last minute are at or below the threshold. */
  belowRenewThreshold: boolean;
  renewsThreshold?: number;
  renewsLastMin?: number;
}

const EMERGENCY = 'EMERGENCY! EUREKA MAY BE INCORRECTLY CLAIMING INSTANCES ARE UP';
const BELOW_BUT_OFF = 'RENEWALS ARE LESSER THAN THE THRESHOLD. THE SELF PRESERVATION MODE IS TURNED OFF';
const TURNED_OFF = 'THE SELF PRESERVATION MODE IS TURNED OFF';
// Rendered before the banners on every dashboard, so an unrelated HTML page is not read as
// "all fine". Only markers above the banners: the template can fail further down (Spring Cloud's
// status.ftlh throws on Amazon instances and truncates the page, sometimes with HTTP 500).
const DASHBOARD_MARKERS = ['System Status', 'Lease expiration enabled'];

function cell(html: string, label: string): string | undefined {
  const m = new RegExp(`<td>\\s*${label.replace(/[()]/g, '\\$&')}\\s*</td>\\s*<td>\\s*([^<]*?)\\s*</td>`, 'i').exec(html);
  return m?.[1];
}

function num(value: string | undefined): number | undefined {
  const n = value === undefined || value === '' ? NaN : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Undefined when the page is not a Eureka dashboard (disabled, moved, or a proxy's page). */
export function parseSelfPreservation(html: string): SelfPreservationState | undefined {
  if (!DASHBOARD_MARKERS.every((m) => html.includes(m))) return undefined;
  const renewsThreshold = num(cell(html, 'Renews threshold'));
  const renewsLastMin = num(cell(html, 'Renews (last min)'));
  const leaseExpiration = cell(html, 'Lease expiration enabled');
  const numbers = { ...(renewsThreshold !== undefined && { renewsThreshold }), ...(renewsLastMin !== undefined && { renewsLastMin }) };
  if (html.includes(EMERGENCY)) return { active: true, enabled: true, belowRenewThreshold: true, ...numbers };
  if (html.includes(BELOW_BUT_OFF)) return { active: false, enabled: false, belowRenewThreshold: true, ...numbers };
  if (html.includes(TURNED_OFF)) return { active: false, enabled: false, belowRenewThreshold: false, ...numbers };
  // No banner: self-preservation is on and not triggered; the table's flag is the cross-check.
  return { active: leaseExpiration === 'false', enabled: true, belowRenewThreshold: false, ...numbers };
}
