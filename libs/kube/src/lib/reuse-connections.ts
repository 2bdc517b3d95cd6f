import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';

/** Agents kept per KubeConfig; more distinct TLS identities than this means rotation, and the oldest go. */
const MAX_AGENTS = 4;

type AgentOptions = Record<string, unknown>;
type AgentFactory = (cluster: Cluster | null, options: AgentOptions) => Agent;

function fingerprint(cluster: Cluster | null, options: AgentOptions): string {
  const h = createHash('sha256').update(`${cluster?.server ?? ''}\0${cluster?.proxyUrl ?? ''}`);
  for (const key of Object.keys(options).sort()) {
    const value = options[key];
    if (value === undefined) continue;
    h.update(`\0${key}=`);
    if (Buffer.isBuffer(value) || typeof value === 'string') h.update(value);
    else h.update(JSON.stringify(value) ?? '');
  }
  return h.digest('hex');
}

/**
 * @kubernetes/client-node 1.x builds a new https.Agent for every request (and every watch), so each
 * call paid a fresh TCP + TLS handshake: most of the idle writer's CPU went to the Lease renewal's
 * handshakes. This makes the KubeConfig hand out one keep-alive agent per distinct TLS material
 * (CA, client certificate, server name...), so rotated credentials still get a new agent.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createAgent: AgentFactory };
  const create = target.createAgent.bind(kc);
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    const key = fingerprint(cluster, options);
    let agent = agents.get(key);
    if (!agent) {
      agent = create(cluster, { ...options, keepAlive: true });
      agents.set(key, agent);
      for (const [old, a] of agents) {
        if (agents.size <= MAX_AGENTS) break;
        agents.delete(old);
        a.destroy();
      }
    }
    return agent;
  };
  return kc;
}
