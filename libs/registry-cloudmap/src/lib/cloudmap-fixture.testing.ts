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
import { randomBytes } from 'node:crypto';

export interface FixtureTarget {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Writes test data into a Cloud Map API (moto in the int specs). Test-only; exported so the
 * collector app's specs can seed the same way. Names get a per-fixture suffix: the peer is shared.
 */
export class CloudMapFixture {
  readonly client: ServiceDiscoveryClient;
  readonly suffix = randomBytes(4).toString('hex');

  constructor(target: FixtureTarget) {
    this.client = new ServiceDiscoveryClient({
      region: target.region,
      endpoint: target.endpoint,
      disableHostPrefix: true,
      credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    });
  }

  name(base: string): string {
    return `${base}-${this.suffix}`;
  }

  private async namespaceOf(operationId: string | undefined): Promise<string> {
    const op = await this.client.send(new GetOperationCommand({ OperationId: operationId }));
    const id = op.Operation?.Targets?.['NAMESPACE'];
    if (!id) throw new Error(`operation ${operationId} names no namespace`);
    return id;
  }

  async namespace(type: 'HTTP' | 'DNS_PRIVATE' | 'DNS_PUBLIC', name: string): Promise<string> {
    const out =
      type === 'HTTP'
        ? await this.client.send(new CreateHttpNamespaceCommand({ Name: name }))
        : type === 'DNS_PRIVATE'
          ? await this.client.send(new CreatePrivateDnsNamespaceCommand({ Name: name, Vpc: `vpc-${randomBytes(8).toString('hex')}` }))
          : await this.client.send(new CreatePublicDnsNamespaceCommand({ Name: name }));
    return this.namespaceOf(out.OperationId);
  }

  async service(namespaceId: string, name: string, health: 'none' | 'custom' = 'none'): Promise<string> {
    const out = await this.client.send(
      new CreateServiceCommand({ NamespaceId: namespaceId, Name: name, ...(health === 'custom' ? { HealthCheckCustomConfig: {} } : {}) }),
    );
    return out.Service?.Id as string;
  }

  async register(serviceId: string, instanceId: string, attributes: Record<string, string>): Promise<void> {
    await this.client.send(new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId, Attributes: attributes }));
  }

  async deregister(serviceId: string, instanceId: string): Promise<void> {
    await this.client.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId }));
  }

  async setHealth(serviceId: string, instanceId: string, status: 'HEALTHY' | 'UNHEALTHY'): Promise<void> {
    await this.client.send(new UpdateInstanceCustomHealthStatusCommand({ ServiceId: serviceId, InstanceId: instanceId, Status: status }));
  }

  async deleteService(serviceId: string): Promise<void> {
    await this.client.send(new DeleteServiceCommand({ Id: serviceId }));
  }

  close(): void {
    this.client.destroy();
  }
}
