import { QUEUES } from '@registry-bridge/contract';
import { Queue } from 'bullmq';
import { consulRecord, waitFor, WriterHarness } from './writer-harness';

// A job whose stored data is not JSON, as a stray producer or a redis-cli slip leaves it, on the
// real Redis: BullMQ cannot even parse it, yet it must be dead-lettered and the queues keep flowing.
jest.setTimeout(120_000);

const h = new WriterHarness();
const port = 19600 + Math.floor(Math.random() * 200) * 2;

/** Writes a job hash and queues its id, as BullMQ's own add does, but with `data` that is not JSON. */
async function rawJob(queue: string, id: string, data: string): Promise<void> {
  const base = `${h.prefix}:${queue}`;
  await h.redis.hset(`${base}:${id}`, { name: 'upsert', data, opts: '{}', timestamp: String(Date.now()), delay: '0', priority: '0' });
  await h.redis.lpush(`${base}:wait`, id);
  // Wakes a worker blocked on the queue's marker, like BullMQ's addStandardJob does.
  await h.redis.zadd(`${base}:marker`, 0, '0');
}

const metric = async (name: string, labels: string) => Number(new RegExp(`${name}\\{${labels}\\} (\\d+)`).exec((await h.http<string>(port, '/metrics')).body)?.[1] ?? 0);

beforeAll(async () => {
  await h.setUp();
  h.startWriter(h.config(), port);
  await waitFor('writer to lead', async () => (await h.http<{ leader: boolean }>(port, '/status').catch(() => ({ body: { leader: false } }))).body.leader, 30_000, 250);
});

afterAll(() => h.tearDown());

afterEach(() => {
  const state = expect.getState();
  if (state.assertionCalls !== state.numPassingAsserts) process.stderr.write(h.logs.slice(-40).join(''));
});

it('dead-letters ingest and reconcile jobs whose data is not JSON, counts and logs them, and keeps processing', async () => {
  await h.status('consul-dc1');
  await rawJob(QUEUES.ingest, 'stray-ingest-1', '{"type":"upsert", not json');
  await rawJob(QUEUES.reconcile, 'stray-reconcile-1', 'not json at all');
  await h.producer.upsert(consulRecord('after-poison', 1, [{ id: 'a', address: '10.8.0.1', health: 'healthy' }]));

  const dlq = new Queue(QUEUES.deadLetter, { connection: h.redis, prefix: h.prefix });
  try {
    const letters = await waitFor('both stray jobs dead-lettered', async () => {
      const jobs = await dlq.getJobs(['waiting']);
      const ids = jobs.map((j) => j.data.jobId as string);
      return ids.includes('stray-ingest-1') && ids.includes('stray-reconcile-1') && jobs;
    }, 30_000);
    const ingest = letters.find((j) => j.data.jobId === 'stray-ingest-1');
    expect(ingest?.data.queue).toBe(QUEUES.ingest);
    expect(ingest?.data.reason).toMatch(/job stray-ingest-1 of queue rb-ingest is not readable: .*JSON/);
    expect(ingest?.data.raw).toBe('{"type":"upsert", not json');
    expect(letters.find((j) => j.data.jobId === 'stray-reconcile-1')?.data.reason).toMatch(/job stray-reconcile-1 of queue rb-reconcile is not readable/);
  } finally {
    await dlq.close();
  }

  expect(await metric('registry_bridge_dead_letters_total', 'reason="unreadable"')).toBe(2);
  // The stray jobs are finished, not left active for the stalled checker.
  expect(await h.redis.lrange(`${h.prefix}:${QUEUES.ingest}:active`, 0, -1)).not.toContain('stray-ingest-1');
  expect(await h.redis.lrange(`${h.prefix}:${QUEUES.reconcile}:active`, 0, -1)).not.toContain('stray-reconcile-1');
  // Later good records still flow.
  await waitFor('ServiceEntry of after-poison', () => h.seByService('after-poison'));
  await h.producer.upsert(consulRecord('later', 1, [{ id: 'l', address: '10.8.0.2', health: 'healthy' }]));
  await waitFor('ServiceEntry of later', () => h.seByService('later'));
  // Logged as structured JSON with the job id, no raw stack on stderr.
  const logs = h.logs.join('');
  expect(logs).toMatch(/\{"level":[^\n]*"jobId":"stray-ingest-1"[^\n]*"msg":"message dead-lettered"/);
  expect(logs).not.toMatch(/at Job\.fromJSON/);
});
