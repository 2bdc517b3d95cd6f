// The Cloud Map API (moto) as a test drives it: one client for the e2e suites, the fault suite and
// the smoke test of the peer.
import {
  CreateHttpNamespaceCommand,
  CreatePrivateDnsNamespaceCommand,
  CreatePublicDnsNamespaceCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterInstanceCommand,
  GetOperationCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
  UpdateInstanceCustomHealthStatusCommand,
} from '@aws-sdk/client-servicediscovery';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { randomBytes } from 'node:crypto';
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

export type CloudMapNamespaceType = 'HTTP' | 'DNS_PRIVATE' | 'DNS_PUBLIC';

/** Creates a namespace (HTTP unless asked) in Cloud Map and returns its id. */
export async function cloudMapNamespace(sd: ServiceDiscoveryClient, name: string, type: CloudMapNamespaceType = 'HTTP'): Promise<string> {
  const op =
    type === 'HTTP'
      ? await sd.send(new CreateHttpNamespaceCommand({ Name: name }))
      : type === 'DNS_PRIVATE'
        ? await sd.send(new CreatePrivateDnsNamespaceCommand({ Name: name, Vpc: `vpc-${randomBytes(8).toString('hex')}` }))
        : await sd.send(new CreatePublicDnsNamespaceCommand({ Name: name }));
  const id = (await sd.send(new GetOperationCommand({ OperationId: op.OperationId }))).Operation?.Targets?.['NAMESPACE'];
  if (!id) throw new Error(`operation ${op.OperationId} names no namespace`);
  return id;
}

/** Creates a service, by default with custom health checks (so a test can flip an instance's health). */
export async function cloudMapService(sd: ServiceDiscoveryClient, namespaceId: string, name: string, customHealth = true): Promise<string> {
  return (await sd.send(new CreateServiceCommand({ NamespaceId: namespaceId, Name: name, ...(customHealth && { HealthCheckCustomConfig: {} }) }))).Service?.Id as string;
}

export const cloudMapHealth = (sd: ServiceDiscoveryClient, serviceId: string, instanceId: string, status: 'HEALTHY' | 'UNHEALTHY') =>
  sd.send(new UpdateInstanceCustomHealthStatusCommand({ ServiceId: serviceId, InstanceId: instanceId, Status: status }));

/**
 * The calls above on one client of its own, for every suite that writes into Cloud Map (the
 * registry lib's int specs, the collector's, the CLI's, the fault suite). Names can carry a
 * per-client suffix (`name()`): the peer is shared.
 */
export class CloudMap {
  readonly client: ServiceDiscoveryClient;
  readonly suffix = randomBytes(4).toString('hex');
  constructor(peers: PeersEnv, endpoint = peers.cloudMap.endpoint, caFile?: string) {
    this.client = cloudMapClient(peers, endpoint, caFile);
  }

  name(base: string): string {
    return `${base}-${this.suffix}`;
  }

  namespace(name: string, type: CloudMapNamespaceType = 'HTTP'): Promise<string> {
    return cloudMapNamespace(this.client, name, type);
  }

  /** By default a service without custom health checks (its instances are healthy); `custom` lets a test flip them. */
  service(namespaceId: string, name: string, health: 'none' | 'custom' = 'none'): Promise<string> {
    return cloudMapService(this.client, namespaceId, name, health === 'custom');
  }

  async register(serviceId: string, instanceId: string, attributes: Record<string, string>): Promise<void> {
    await this.client.send(new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId, Attributes: attributes }));
  }

  async deregister(serviceId: string, instanceId: string): Promise<void> {
    await this.client.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId }));
  }

  async setHealth(serviceId: string, instanceId: string, status: 'HEALTHY' | 'UNHEALTHY'): Promise<void> {
    await cloudMapHealth(this.client, serviceId, instanceId, status);
  }

  async deleteService(serviceId: string): Promise<void> {
    await this.client.send(new DeleteServiceCommand({ Id: serviceId }));
  }

  close(): void {
    this.client.destroy();
  }
}
