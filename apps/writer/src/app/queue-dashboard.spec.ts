import type { NextFunction, Request, Response } from 'express';
import { basicAuth } from './queue-dashboard';

function call(header?: string) {
  const guard = basicAuth('admin', 's3cret');
  let status = 200;
  let passed = false;
  const res = { setHeader: jest.fn(), status: (s: number) => ((status = s), res), send: jest.fn() } as unknown as Response;
  guard({ headers: header ? { authorization: header } : {} } as Request, res, (() => (passed = true)) as NextFunction);
  return { status, passed };
}
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('queue dashboard basic auth', () => {
  it('lets the right credentials through', () => expect(call(`Basic ${b64('admin:s3cret')}`)).toEqual({ status: 200, passed: true }));
  it.each([
    ['no header', undefined],
    ['a wrong password', `Basic ${b64('admin:nope')}`],
    ['a wrong user', `Basic ${b64('root:s3cret')}`],
    ['a bearer token', 'Bearer abc'],
    ['garbage', 'Basic %%%'],
  ])('refuses %s', (_n, header) => expect(call(header)).toEqual({ status: 401, passed: false }));
});
