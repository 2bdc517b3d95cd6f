import { isValidLabelKey, isValidLabelValue } from './names';
import { isReservedLabelKey } from './ownership';
import { CRD_LIMITS } from './source-rules';
import type { Drop } from './translation.types';

/**
 * The labels of an endpoint that may be written: reserved keys (ownership, Istio, Kubernetes),
 * invalid keys and values and those over the label limit are dropped with a reason. Room for the
 * labels the translator adds itself is kept under the limit.
 */
export function sanitizeLabels(input: Record<string, string>, drops: Drop[], context: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(input).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (isReservedLabelKey(key)) {
      drops.push({ reason: 'label-reserved', detail: `${context}: label "${key}" is reserved` });
    } else if (!isValidLabelKey(key)) {
      drops.push({ reason: 'label-invalid-key', detail: `${context}: label key "${key.slice(0, 80)}" is not a valid Kubernetes label key` });
    } else if (!isValidLabelValue(value)) {
      drops.push({ reason: 'label-invalid-value', detail: `${context}: value of label "${key}" is not a valid Kubernetes label value` });
    } else if (Object.keys(out).length >= CRD_LIMITS.labels - 8) {
      drops.push({ reason: 'label-over-limit', detail: `${context}: label "${key}" over the ${CRD_LIMITS.labels} label limit` });
    } else {
      out[key] = value;
    }
  }
  return out;
}
