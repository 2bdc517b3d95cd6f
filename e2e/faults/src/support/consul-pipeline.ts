// Consul -> collector-consul -> Redis -> writer -> API server, with the short cadences the fault
// specs need (every wait below is a setting of these configs, not a guess).
import { App, until } from './apps';
import { PrivateConsul } from '@registry-bridge/test-peers';
import { Scenario } from './scenario';

export interface ConsulCollectorOptions {
  source: string;
  address: string;
  redis?: Record<string, unknown>;
  allow?: string[];
  token?: Record<string, unknown>;
  tls?: Record<string, unknown>;
  memberTtlSeconds?: number;
}

/** Blocking waits of 5 s, requests time out after 2 s, a complete snapshot every 4 s. */
export function consulCollectorConfig(sc: Scenario, o: ConsulCollectorOptions): Record<string, unknown> {
  return {
    redis: o.redis ?? { url: sc.peers.redisUrl, prefix: sc.prefix },
    collector: { heartbeatSeconds: 2, memberTtlSeconds: o.memberTtlSeconds ?? 6 },
    readinessGraceSeconds: 5,
    sources: [
      {
        name: o.source,
        address: o.address,
        ...(o.token && { token: o.token }),
        ...(o.tls && { tls: o.tls }),
        filters: { allow: o.allow ?? ['*'] },
        watch: { waitSeconds: 5, requestTimeoutSeconds: 2, backoffMaxSeconds: 2, snapshotIntervalSeconds: 4 },
      },
    ],
  };
}

/** Registers `n` services `<prefix>-<i>` with `per` passing instances each at 10.<a>.<i>.<j>. */
export async function seedConsul(consul: PrivateConsul, prefix: string, n: number, per = 2, a = 60): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${prefix}-${i}`;
    names.push(name);
    for (let j = 1; j <= per; j++) {
      await consul.register({ Name: name, ID: `${name}-${j}`, Address: `10.${a}.${i}.${j}`, Port: 8080, Meta: { protocol: 'http' }, Check: { TTL: '3600s', Status: 'passing' } });
    }
  }
  return names;
}

/** Waits until every service has a ServiceEntry with `per` endpoints. */
export async function converged(sc: Scenario, services: string[], per: number | ((svc: string) => number), ms = 60000): Promise<void> {
  await until(
    `${services.length} ServiceEntries converged`,
    async () => {
      const ses = await sc.ses();
      return services.every((s) => {
        const se = ses.find((o) => o.metadata.annotations?.['registry-bridge.io/service'] === s);
        return se && (se.spec.endpoints ?? []).length === (typeof per === 'number' ? per : per(s));
      });
    },
    ms,
  );
}

export const ready = async (app: App): Promise<number> => (await app.get('/health/ready')).status;
