import { decodeApplications, EurekaPayloadError, type ApplicationsPayload } from './eureka-payload';
import type { EurekaResponse } from './eureka-rest.client';

/** The cluster answered, but not with the applications (401, 403 without delta, 404 of /apps). */
export class EurekaHttpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EurekaHttpError';
  }
}

/** The applications of a `/apps` or `/apps/delta` answer; throws naming the server when there are none. */
export function decodeResponse(res: EurekaResponse): ApplicationsPayload {
  if (res.status !== 200) throw new EurekaHttpError(`${res.server} answered HTTP ${res.status}`);
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new EurekaPayloadError(`${res.server} sent a body that is not JSON`);
  }
  return decodeApplications(body);
}
