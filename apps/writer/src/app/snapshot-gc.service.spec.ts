import { MetricsService } from '@registry-bridge/observability';
import pino from 'pino';
import { FakeState } from '../testing/writer-fakes';
import { DeletionPolicy } from './deletion.policy';
import { ReconcileQueue } from './reconcile-queue.service';
import { SnapshotGc } from './snapshot-gc.service';
import { StateStore } from './state-store.service';
import { StatusBoard } from './status-board.service';
import { WriterMetrics } from './writer-metrics.service';

const NOW = 1_700_000_000_000;

function setup(known: number, maxDeletes = 2) {
  const state = new FakeState();
  for (let i = 0; i < known; i++) state.seed({ key: `s//svc-${i}`, revision: 1, lineage: '', observedAt: NOW - 10_000, deleted: false });
  const queued: string[] = [];
  const queue = { enqueueKey: async (key: string) => void queued.push(key) } as unknown as ReconcileQueue;
  const board = new StatusBoard(new WriterMetrics(new MetricsService()));
  const policy = new DeletionPolicy({ gracePeriodSeconds: 60, maxDeletes, maxDeletePercent: 0, windowSeconds: 300, sourceSilenceSeconds: 60 });
  const gc = new SnapshotGc(state as unknown as StateStore, policy, board, queue, pino({ level: 'silent' }));
  const snapshot = (keys: string[]) => state.snapshots.set('s', { epoch: 1, complete: true, observedAt: NOW - 1000, keys: new Set(keys) });
  return { state, queued, board, gc, snapshot };
}

describe('SnapshotGc', () => {
  it('does nothing without a complete snapshot', async () => {
    const t = setup(3);
    expect(await t.gc.collect('s', NOW)).toEqual({ gc: 'no-snapshot' });
    expect(t.queued).toEqual([]);
  });

  it('tombstones and queues the keys a complete snapshot no longer lists, within the budget', async () => {
    const t = setup(4);
    t.snapshot(['s//svc-0', 's//svc-1']);
    expect(await t.gc.collect('s', NOW)).toEqual({ gc: 2 });
    expect(t.queued.sort()).toEqual(['s//svc-2', 's//svc-3']);
    expect(t.state.states.get('s//svc-2')?.deleted).toBe(true);
    expect(t.state.states.get('s//svc-0')?.deleted).toBe(false);
  });

  it('leaves a key that changed after the snapshot', async () => {
    const t = setup(2);
    t.state.seed({ key: 's//svc-1', revision: 2, lineage: '', observedAt: NOW, deleted: false });
    t.snapshot(['s//svc-0']);
    expect(await t.gc.collect('s', NOW)).toEqual({ gc: 0 });
    expect(t.state.states.get('s//svc-1')?.deleted).toBe(false);
  });

  it('removes nothing when the snapshot would remove more than the budget at once, and says so', async () => {
    const t = setup(10);
    t.snapshot(['s//svc-0']);
    expect(await t.gc.collect('s', NOW)).toEqual({ gc: 'guard-tripped' });
    expect(t.queued).toEqual([]);
    expect([...t.state.states.values()].filter((s) => s.deleted)).toEqual([]);
    expect(t.board.lastTrip('s')).toMatchObject({ guard: 'snapshot-budget', detail: 'snapshot of s would remove 9 of 10 services, over the budget of 2; nothing removed' });
  });
});
