import { EurekaPayloadError } from './eureka-payload';
import { decodeResponse, EurekaHttpError } from './eureka-response.util';

const res = (status: number, body: string) => ({ status, body, server: 'http://eureka-1:8761/eureka', durationMs: 1 });
const apps = JSON.stringify({ applications: { apps__hashcode: 'UP_1_', application: [{ name: 'ORDERS', instance: [{ app: 'ORDERS', instanceId: 'o1' }] }] } });

describe('decodeResponse', () => {
  it('decodes the applications of a 200 answer', () => {
    const payload = decodeResponse(res(200, apps));
    expect(payload.hashCode).toBe('UP_1_');
    expect([...payload.apps.keys()]).toEqual(['ORDERS']);
  });

  it.each<[string, number, string, new (m: string) => Error, RegExp]>([
    ['another status', 401, '', EurekaHttpError, /^http:\/\/eureka-1:8761\/eureka answered HTTP 401$/],
    ['a body that is not JSON', 200, '<html>login</html>', EurekaPayloadError, /eureka-1.*not JSON/],
    ['JSON without applications', 200, '{"x":1}', EurekaPayloadError, /no "applications"/],
  ])('refuses %s, naming what is wrong', (_n, status, body, type, message) => {
    expect(() => decodeResponse(res(status, body))).toThrow(type);
    expect(() => decodeResponse(res(status, body))).toThrow(message);
  });
});
