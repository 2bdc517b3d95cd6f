import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { INestApplication } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';

export const DASHBOARD_PATH = '/queues';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Basic auth in front of the dashboard: it can retry and delete jobs, so it is never open. */
export function basicAuth(username: string, password: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const [scheme, encoded] = header.split(' ');
    if (scheme === 'Basic' && encoded) {
      const decoded = Buffer.from(encoded, 'base64').toString();
      const i = decoded.indexOf(':');
      if (i > 0 && same(decoded.slice(0, i), username) && same(decoded.slice(i + 1), password)) return next();
    }
    res.setHeader('WWW-Authenticate', 'Basic realm="registry-bridge queues"');
    res.status(401).send('authentication required');
  };
}

/** bull-board over the ingest, reconcile and dead-letter queues, behind basic auth. */
export function mountQueueDashboard(app: INestApplication, queues: Queue[], username: string, password: string): void {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  app.use(DASHBOARD_PATH, basicAuth(username, password), serverAdapter.getRouter());
}
