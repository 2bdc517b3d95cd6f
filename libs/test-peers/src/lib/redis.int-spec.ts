import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import { loadPeersEnv, PeersEnv } from './peers-env';

// Smoke test of the Redis peer: a BullMQ job goes through a real queue and comes back.
jest.setTimeout(60_000); // a loaded 2-core machine; the waits inside are bounded on their own

describe('peer: Redis (BullMQ)', () => {
  let env: PeersEnv;
  beforeAll(async () => {
    env = await loadPeersEnv({ peers: ['redis'] });
  });

  it('runs a job round trip', async () => {
    const u = new URL(env.redisUrl);
    const connection = { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
    const name = `smoke-${process.pid}-${Date.now()}`;
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    const worker = new Worker(name, async (job: Job<{ n: number }>) => ({ doubled: job.data.n * 2, id: job.id }), { connection });
    try {
      await events.waitUntilReady();
      await worker.waitUntilReady();
      const job = await queue.add('double', { n: 21 });
      const result = await job.waitUntilFinished(events, 30000);
      expect(result).toEqual({ doubled: 42, id: job.id });
      expect(await queue.getJobCounts('completed')).toEqual({ completed: 1 });
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await events.close();
    }
  });
});
