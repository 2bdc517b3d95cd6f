// AWS Cloud Map on moto through the AWS SDK, like any AWS client. Changes are new instances only:
// the target is about membership, health is seen only at the health re-read (healthSeconds), and
// moto (5.2.5) cannot express the others faithfully: a deregistration lowers its InstancesRevision
// (the writer then drops the record as older than the last one), and re-registering an instance
// id with new attributes lists it twice.
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  DeleteNamespaceCommand,
  DeleteServiceCommand,
  DeregisterInstanceCommand,
  GetOperationCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { pool, sleep } from '../lib/util';
import { address, ChangeType, InstanceModel, RegistryDriver } from './registry';

export interface CloudMapPeer {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export class CloudMapDriver implements RegistryDriver {
  readonly kind = 'cloudmap' as const;
  readonly label = 'cloudmap';
  readonly changeTypes: ChangeType[] = ['register'];
  readonly spareInstances = 10;
  readonly rolling = 'register' as const;
  private readonly client: ServiceDiscoveryClient;
  private namespaceId = '';
  private serviceIds: string[] = [];
  private instances = 0;

  constructor(
    private readonly peer: CloudMapPeer,
    readonly source: string,
    private readonly prefix: string,
    private readonly tuning: Record<string, unknown> = {},
  ) {
    this.client = new ServiceDiscoveryClient({
      region: peer.region,
      endpoint: peer.endpoint,
      disableHostPrefix: true,
      credentials: { accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey },
    });
  }

  get namespaceName(): string {
    return `${this.prefix}.local`;
  }

  private svc = (s: number) => `${this.prefix}-s${s}`;
  private id = (s: number, i: number) => `${this.prefix}-s${s}-i${i}`;

  private register(s: number, i: number, m: InstanceModel) {
    return this.client.send(
      new RegisterInstanceCommand({ ServiceId: this.serviceIds[s], InstanceId: this.id(s, i), Attributes: { AWS_INSTANCE_IPV4: address(s, i), AWS_INSTANCE_PORT: '8080', protocol: 'http', version: `v${m.version}` } }),
    );
  }

  async seed(services: number, instances: number, onProgress?: (done: number) => void): Promise<void> {
    this.instances = instances + this.spareInstances;
    const op = await this.client.send(new CreateHttpNamespaceCommand({ Name: this.namespaceName }));
    for (;;) {
      const o = await this.client.send(new GetOperationCommand({ OperationId: op.OperationId }));
      if (o.Operation?.Status === 'SUCCESS') {
        this.namespaceId = o.Operation.Targets?.['NAMESPACE'] ?? '';
        break;
      }
      await sleep(100);
    }
    this.serviceIds = new Array(services);
    await pool(Array.from({ length: services }, (_, s) => s), 8, async (s) => {
      const r = await this.client.send(new CreateServiceCommand({ Name: this.svc(s), NamespaceId: this.namespaceId }));
      this.serviceIds[s] = r.Service?.Id ?? '';
    });
    const all: Array<[number, number]> = [];
    for (let s = 0; s < services; s++) for (let i = 0; i < instances; i++) all.push([s, i]);
    let done = 0;
    await pool(all, 8, async ([s, i]) => {
      await this.register(s, i, { present: true, healthy: true, version: 1 });
      if (++done % 1000 === 0) onProgress?.(done);
    });
  }

  async apply(s: number, i: number, type: ChangeType, m: InstanceModel): Promise<void> {
    if (type === 'deregister') await this.client.send(new DeregisterInstanceCommand({ ServiceId: this.serviceIds[s], InstanceId: this.id(s, i) }));
    else await this.register(s, i, m);
  }

  // Re-registering an instance with identical attributes: an API write that changes nothing.
  async noop(s: number, model: InstanceModel[]): Promise<void> {
    const i = model.findIndex((m) => m.present);
    if (i >= 0) await this.register(s, i, model[i]);
  }

  async cleanup(): Promise<void> {
    const all: Array<[number, number]> = [];
    for (let s = 0; s < this.serviceIds.length; s++) for (let i = 0; i < this.instances; i++) all.push([s, i]);
    await pool(all, 8, ([s, i]) => this.client.send(new DeregisterInstanceCommand({ ServiceId: this.serviceIds[s], InstanceId: this.id(s, i) })).then(() => undefined, () => undefined));
    await pool(this.serviceIds, 8, (id) => this.client.send(new DeleteServiceCommand({ Id: id })).then(() => undefined, () => undefined));
    if (this.namespaceId) await this.client.send(new DeleteNamespaceCommand({ Id: this.namespaceId })).catch(() => undefined);
  }

  collectorApp() {
    return 'collector-cloudmap' as const;
  }

  collectorConfig(redis: Record<string, unknown>): Record<string, unknown> {
    return {
      redis,
      sources: [
        {
          name: this.source,
          region: this.peer.region,
          endpoint: this.peer.endpoint,
          verifyServiceNamespace: true, // moto ignores the ListServices namespace filter
          namespaces: { names: [this.namespaceName] },
          services: { allow: [`${this.prefix}-*`] },
          ...this.tuning,
        },
      ],
    };
  }

  writerSource() {
    return { kind: 'cloudmap' };
  }
}
