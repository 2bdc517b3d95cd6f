// The Cloud Map API (moto) as a test drives it, and a collector-cloudmap config with fast cadences.
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  DeregisterInstanceCommand,
  GetOperationCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { PeersEnv } from '@registry-bridge/test-peers';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { Scenario } from './scenario';

export class CloudMap {
  readonly client: ServiceDiscoveryClient;
  /** `caFile`: trust this CA for an HTTPS endpoint (the apps get NODE_EXTRA_CA_CERTS instead). */
  constructor(peers: PeersEnv, endpoint = peers.cloudMap.endpoint, caFile?: string) {
    this.client = new ServiceDiscoveryClient({
      ...(caFile && { requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(caFile) }) }) }),
      region: peers.cloudMap.region,
      endpoint,
      disableHostPrefix: true,
      credentials: { accessKeyId: peers.cloudMap.accessKeyId, secretAccessKey: peers.cloudMap.secretAccessKey },
    });
  }

  async namespace(name: string): Promise<string> {
    const out = await this.client.send(new CreateHttpNamespaceCommand({ Name: name }));
    const op = await this.client.send(new GetOperationCommand({ OperationId: out.OperationId }));
    return op.Operation?.Targets?.['NAMESPACE'] as string;
  }

  async service(namespaceId: string, name: string): Promise<string> {
    return (await this.client.send(new CreateServiceCommand({ NamespaceId: namespaceId, Name: name }))).Service?.Id as string;
  }

  async register(serviceId: string, instanceId: string, attributes: Record<string, string>): Promise<void> {
    await this.client.send(new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId, Attributes: attributes }));
  }

  async deregister(serviceId: string, instanceId: string): Promise<void> {
    await this.client.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId }));
  }

  close(): void {
    this.client.destroy();
  }
}

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
