// The Cloud Map API (moto) as a test drives it: one client for the e2e suites, the fault suite and
// the smoke test of the peer.
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  DeregisterInstanceCommand,
  GetOperationCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
  UpdateInstanceCustomHealthStatusCommand,
} from '@aws-sdk/client-servicediscovery';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { PeersEnv } from './peers-env';

/**
 * A Cloud Map client of the peers' moto, or of `endpoint`; `caFile`: trust this CA for an HTTPS
 * endpoint (the apps get NODE_EXTRA_CA_CERTS instead).
 */
export function cloudMapClient(peers: PeersEnv, endpoint = peers.cloudMap.endpoint, caFile?: string): ServiceDiscoveryClient {
  return new ServiceDiscoveryClient({
    ...(caFile && { requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(caFile) }) }) }),
    region: peers.cloudMap.region,
    endpoint,
    // DiscoverInstances is a "data-" host-prefixed operation; against a loopback endpoint the prefix must be off
    disableHostPrefix: true,
    credentials: { accessKeyId: peers.cloudMap.accessKeyId, secretAccessKey: peers.cloudMap.secretAccessKey },
  });
}

/** Creates an HTTP namespace in Cloud Map and returns its id. */
export async function cloudMapNamespace(sd: ServiceDiscoveryClient, name: string): Promise<string> {
  const op = await sd.send(new CreateHttpNamespaceCommand({ Name: name }));
  return (await sd.send(new GetOperationCommand({ OperationId: op.OperationId }))).Operation?.Targets?.['NAMESPACE'] as string;
}

/** Creates a service, by default with custom health checks (so a test can flip an instance's health). */
export async function cloudMapService(sd: ServiceDiscoveryClient, namespaceId: string, name: string, customHealth = true): Promise<string> {
  return (await sd.send(new CreateServiceCommand({ NamespaceId: namespaceId, Name: name, ...(customHealth && { HealthCheckCustomConfig: {} }) }))).Service?.Id as string;
}

export const cloudMapHealth = (sd: ServiceDiscoveryClient, serviceId: string, instanceId: string, status: 'HEALTHY' | 'UNHEALTHY') =>
  sd.send(new UpdateInstanceCustomHealthStatusCommand({ ServiceId: serviceId, InstanceId: instanceId, Status: status }));

/** The calls above on one client of its own. */
export class CloudMap {
  readonly client: ServiceDiscoveryClient;
  constructor(peers: PeersEnv, endpoint = peers.cloudMap.endpoint, caFile?: string) {
    this.client = cloudMapClient(peers, endpoint, caFile);
  }

  namespace(name: string): Promise<string> {
    return cloudMapNamespace(this.client, name);
  }

  /** A service without custom health checks: its instances are healthy. */
  service(namespaceId: string, name: string): Promise<string> {
    return cloudMapService(this.client, namespaceId, name, false);
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
