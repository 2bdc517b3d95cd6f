import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CollectorSourcesService, SourceStatusReporter } from '@registry-bridge/collector-core';
import type { CollectorAdapter, CollectorMetrics, CollectorReadiness, IngestProducer, MembershipService, RedisResetDetector } from '@registry-bridge/collector-core';
import { MetricsService } from '@registry-bridge/observability';
import { EurekaSourceWatch, eurekaSourcesSchema, retryDelayMs } from '@registry-bridge/registry-eureka';
import type { CollectorEurekaConfig } from '@registry-bridge/config/eureka';
import type { Redis } from 'ioredis';
import { eurekaCollector } from './eureka-collector';

class FakeMembership extends EventEmitter {
  memberId = 'm1';
  holder = true;
  held = new Set<string>();
  holdsLease(name: string) {
    return this.held.has(name);
  }
  async leaseFor(name: string) {
    if (this.holder) this.held.add(name);
    return this.holder;
  }
  lose(name: string) {
    this.held.delete(name);
    this.emit('leaseLost', name);
  }
}

// The unreachable-source warnings are expected here.
Logger.overrideLogger(false);

describe('the Eureka collector', () => {
  const sent: Array<{ type: string; msg: { reachable?: boolean } }> = [];
  const producer = {
    upsert: async (msg: object) => void sent.push({ type: 'upsert', msg }),
    remove: async (msg: object) => void sent.push({ type: 'remove', msg }),
    snapshot: async (msg: object) => void sent.push({ type: 'snapshot', msg }),
    sourceStatus: async (msg: { reachable: boolean }) => void sent.push({ type: 'sourceStatus', msg }),
  };
  const collectorMetrics = { error: jest.fn(), success: jest.fn(), change: jest.fn(), owned: jest.fn() };
  const checks = new Map<string, () => unknown>();
  const readiness = { register: (name: string, check: () => unknown) => checks.set(name, check) };
  let membership: FakeMembership;
  let resets: EventEmitter;
  let config: CollectorEurekaConfig;
  let service: CollectorSourcesService;
  const watches = () => service.sourceWatches() as EurekaSourceWatch[];
  const tick = async () => void (await Promise.all(watches().map((w) => w.tick())));
  const syncerOf = (name: string) => watches().find((w) => w.syncer.ref.name === name)?.syncer;

  beforeEach(() => {
    sent.length = 0;
    checks.clear();
    membership = new FakeMembership();
    resets = new EventEmitter();
    config = {
      // A port nobody listens on: every read fails at once, which is enough to see who reads.
      sources: eurekaSourcesSchema.parse([{ name: 'eureka-a', serviceUrls: ['http://127.0.0.1:9/eureka'], dashboard: { enabled: false } }]),
      leaseCheckSeconds: 3600,
      collector: { heartbeatSeconds: 10, memberTtlSeconds: 6 },
    } as unknown as CollectorEurekaConfig;
    // The status heartbeat on the test's clock (Date.now is replaced below).
    const reporter = new SourceStatusReporter(producer, 'eureka', config.collector.heartbeatSeconds, undefined, () => new Date(Date.now()));
    service = new CollectorSourcesService(
      config,
      eurekaCollector as CollectorAdapter<unknown>,
      producer as unknown as IngestProducer,
      membership as unknown as MembershipService,
      reporter,
      readiness as unknown as CollectorReadiness,
      resets as unknown as RedisResetDetector,
      {} as Redis,
      new MetricsService(),
      collectorMetrics as unknown as CollectorMetrics,
    );
  });
  afterEach(() => service.onModuleDestroy());

  it('reads the registry only while holding the source lease, and reports it unreachable', async () => {
    await service.onApplicationBootstrap();
    await tick();
    expect(sent.map((s) => [s.type, s.msg.reachable])).toEqual([['sourceStatus', false]]);
    expect(await checks.get('eureka:eureka-a')?.()).toEqual({ ready: false, detail: 'registry not read yet' });
  });

  it('a standby replica sends nothing and is ready', async () => {
    membership.holder = false;
    await service.onApplicationBootstrap();
    await tick();
    expect(sent).toEqual([]);
    expect(await checks.get('eureka:eureka-a')?.()).toMatchObject({ ready: true });
  });

  it('stands down when the lease is lost and starts over with a full fetch when it comes back', async () => {
    await service.onApplicationBootstrap();
    await tick();
    const syncer = syncerOf('eureka-a');
    const reset = jest.spyOn(syncer as NonNullable<typeof syncer>, 'reset');
    membership.holder = false;
    membership.lose('eureka-a');
    expect(reset).toHaveBeenCalledTimes(1);
    sent.length = 0;
    await tick();
    expect(sent).toEqual([]);
    membership.holder = true;
    await tick();
    expect(sent.map((s) => s.type)).toEqual(['sourceStatus']);
  });

  it('a source whose TLS file is missing is reported for itself and the other sources still run', async () => {
    (config as { sources: unknown[] }).sources = eurekaSourcesSchema.parse([
      { name: 'eureka-broken', serviceUrls: ['https://127.0.0.1:9/eureka'], tls: { caFile: 'missing-ca.pem' }, dashboard: { enabled: false } },
      { name: 'eureka-a', serviceUrls: ['http://127.0.0.1:9/eureka'], dashboard: { enabled: false } },
    ]);
    await service.onApplicationBootstrap();
    await tick();
    expect(await checks.get('eureka:eureka-broken')?.()).toEqual({ ready: false, detail: expect.stringContaining('tls.caFile: cannot read missing-ca.pem: ENOENT') });
    expect(sent.map((s) => s.msg)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: { name: 'eureka-broken', kind: 'eureka' }, reachable: false, error: expect.stringContaining('tls.caFile') }),
        expect.objectContaining({ source: { name: 'eureka-a', kind: 'eureka' }, reachable: false }),
      ]),
    );
  });

  describe('with a reachable registry polled every second', () => {
    let server: Server;
    let answer: number | object;
    const realNow = Date.now;
    let now: number;
    const apps = (hash: string, instances: object[] = []) => ({
      applications: { versions__delta: '1', apps__hashcode: hash, application: instances.length ? [{ name: 'ORDERS', instance: instances }] : [] },
    });
    const o1 = { app: 'ORDERS', instanceId: 'o1', ipAddr: '10.0.0.1', status: 'UP', port: { $: 8080, '@enabled': 'true' } };

    beforeEach(async () => {
      answer = apps('UP_1_', [o1]);
      server = createServer((req, res) => {
        if (typeof answer === 'number') return void res.writeHead(answer).end();
        // A quiet registry: the full list, and deltas with nothing in them.
        const body = req.url?.endsWith('/apps/delta') ? apps('UP_1_') : answer;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/eureka`;
      (config as { sources: unknown[] }).sources = eurekaSourcesSchema.parse([
        { name: 'eureka-a', serviceUrls: [url], pollIntervalSeconds: 1, dashboard: { enabled: false } },
      ]);
      now = realNow();
      Date.now = () => now;
    });
    afterEach(async () => {
      Date.now = realNow;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const poll = async () => {
      now += 1000;
      await tick();
    };
    const types = () => sent.map((s) => s.type);

    it('sends the status once per heartbeat, not once per poll: a quiet poll sends nothing', async () => {
      await service.onApplicationBootstrap();
      await tick();
      expect(types()).toEqual(['upsert', 'snapshot', 'sourceStatus']);
      sent.length = 0;
      for (let i = 0; i < 9; i++) await poll();
      expect(sent).toEqual([]);
      await poll();
      expect(types()).toEqual(['sourceStatus']);
      expect(sent[0].msg).toMatchObject({ reachable: true, lastSuccessAt: new Date(now).toISOString() });
    });

    it('sends a changed status at once, and again when it recovers', async () => {
      await service.onApplicationBootstrap();
      await tick();
      sent.length = 0;
      await poll();
      answer = 500;
      await poll();
      expect(sent.map((s) => [s.type, s.msg.reachable])).toEqual([['sourceStatus', false]]);
      await poll();
      expect(sent).toHaveLength(1);
      answer = apps('UP_1_', [o1]);
      await poll();
      expect(sent.map((s) => [s.type, s.msg.reachable])).toEqual([
        ['sourceStatus', false],
        ['sourceStatus', true],
      ]);
    });

    it('re-sends the last status between polls slower than the heartbeat, without reading Eureka', async () => {
      (config as { sources: Array<{ pollIntervalSeconds: number }> }).sources[0].pollIntervalSeconds = 60;
      await service.onApplicationBootstrap();
      await tick();
      const syncOnce = jest.spyOn(syncerOf('eureka-a') as NonNullable<ReturnType<typeof syncerOf>>, 'syncOnce');
      sent.length = 0;
      now += 5_000;
      await tick();
      expect(sent).toHaveLength(0);
      const before = new Date(now).toISOString();
      now += 6_000;
      await tick();
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ type: 'sourceStatus', msg: { reachable: true } });
      expect((sent[0].msg as { observedAt?: string }).observedAt).not.toBe(before);
      expect(syncOnce).not.toHaveBeenCalled();
    });

    // Issue 15.2: after a failed read the next one came a whole poll interval later, so a registry
    // that answered again stayed "unreachable" at the writer (and not ready) for that long.
    it('after a failed read, reads again within seconds, not a poll interval later', async () => {
      (config as { sources: Array<{ pollIntervalSeconds: number }> }).sources[0].pollIntervalSeconds = 60;
      await service.onApplicationBootstrap();
      await tick();
      answer = 500;
      now += 60_000;
      await tick();
      sent.length = 0;
      answer = apps('UP_1_', [o1]);
      now += 1000;
      await tick();
      expect(sent.map((s) => [s.type, s.msg.reachable])).toEqual([['sourceStatus', true]]);
      expect(await checks.get('eureka:eureka-a')?.()).toEqual({ ready: true });
    });

    it('after Redis lost its data, sends every service and a complete snapshot again at the next poll, keeping the lease', async () => {
      await service.onApplicationBootstrap();
      await tick();
      expect(types()).toEqual(['upsert', 'snapshot', 'sourceStatus']);
      sent.length = 0;
      await poll();
      expect(types()).toEqual([]);
      resets.emit('reset');
      await poll();
      expect(types()).toEqual(['upsert', 'snapshot', 'sourceStatus']);
      expect(membership.holdsLease('eureka-a')).toBe(true);
    });

    it('a replica that got the lease back reports at once, whatever it said before', async () => {
      await service.onApplicationBootstrap();
      await tick();
      membership.holder = false;
      membership.lose('eureka-a');
      sent.length = 0;
      await poll();
      expect(sent).toEqual([]);
      membership.holder = true;
      await poll();
      expect(types()).toEqual(['upsert', 'snapshot', 'sourceStatus']);
    });
  });
});

describe('retryDelayMs (the read after failed ones)', () => {
  it.each`
    failures | pollMs   | expected
    ${1}     | ${10000} | ${1000}
    ${2}     | ${10000} | ${2000}
    ${4}     | ${10000} | ${2000}
    ${50}    | ${10000} | ${2000}
    ${1}     | ${500}   | ${500}
    ${0}     | ${10000} | ${1000}
  `('$failures failures, poll $pollMs -> $expected', ({ failures, pollMs, expected }) => {
    expect(retryDelayMs(failures, pollMs)).toBe(expected);
  });
});
