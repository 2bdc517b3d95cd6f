// A collector-cloudmap config with fast cadences, and the Cloud Map API (moto) as a test drives it.
import type { PeersEnv } from '@registry-bridge/test-peers';
import { Scenario } from './scenario';

// the one Cloud Map test client, shared with the e2e suites
export { CloudMap } from '@registry-bridge/test-peers';

/** Inventory every 2 s, revisions every second. */
export function cloudMapCollectorConfig(sc: Scenario, source: string, namespaces: string[], endpoint = sc.peers.cloudMap.endpoint): Record<string, unknown> {
  return {
    redis: { url: sc.peers.redisUrl, prefix: sc.prefix },
    collector: { heartbeatSeconds: 2 },
    readinessGraceSeconds: 10,
    sources: [
      {
        name: source,
        region: sc.peers.cloudMap.region,
        endpoint,
        namespaces: { names: namespaces },
        budget: { GetService: { rps: 500 }, ListNamespaces: { rps: 20 }, ListServices: { rps: 20 } },
        intervals: { inventorySeconds: 2, revisionSeconds: 1, healthSeconds: 2, statusSeconds: 2 },
      },
    ],
  };
}

export const awsEnv = (peers: PeersEnv, secret = peers.cloudMap.secretAccessKey): NodeJS.ProcessEnv => ({
  AWS_ACCESS_KEY_ID: peers.cloudMap.accessKeyId,
  AWS_SECRET_ACCESS_KEY: secret,
});
