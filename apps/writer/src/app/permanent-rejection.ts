import { KubeError } from '@registry-bridge/kube';

/**
 * A rejection by the API server that the same request can never get past: malformed or invalid
 * (400, 422), too large for the API server (413) or for etcd (reported as a 500 "request is too
 * large" by some API server versions). Retrying it only burns the rate limit.
 */
export function isPermanentRejection(err: unknown): err is KubeError {
  if (!(err instanceof KubeError)) return false;
  if (err.status === 400 || err.status === 413 || err.status === 422) return true;
  return err.status === 500 && /request is too large/i.test(err.message);
}
