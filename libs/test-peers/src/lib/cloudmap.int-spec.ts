import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  DeleteNamespaceCommand,
  DeleteServiceCommand,
  DeregisterInstanceCommand,
  DiscoverInstancesCommand,
  GetOperationCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { cloudMapClient } from './cloud-map';
import { loadPeersEnv, PeersEnv } from './peers-env';

// Smoke test of the Cloud Map peer (moto server mode): namespace, service, instance, discover.
jest.setTimeout(60_000); // a loaded 2-core machine; the waits inside are bounded on their own

describe('peer: AWS Cloud Map (moto)', () => {
  let env: PeersEnv;
  let client: ServiceDiscoveryClient;
  beforeAll(async () => {
    env = await loadPeersEnv({ peers: ['cloudMap'] });
    client = cloudMapClient(env);
  });
  afterAll(() => client?.destroy());

  it('creates a namespace, a service and an instance and discovers it', async () => {
    const nsName = `smoke-${process.pid}-${Date.now()}`;
    const op = await client.send(new CreateHttpNamespaceCommand({ Name: nsName }));
    const opResult = await client.send(new GetOperationCommand({ OperationId: op.OperationId }));
    expect(opResult.Operation?.Status).toBe('SUCCESS');
    const namespaceId = opResult.Operation?.Targets?.NAMESPACE;
    expect(namespaceId).toBeTruthy();

    const svc = await client.send(new CreateServiceCommand({ Name: 'orders', NamespaceId: namespaceId, HealthCheckCustomConfig: { FailureThreshold: 1 } }));
    const serviceId = svc.Service?.Id;
    expect(serviceId).toBeTruthy();
    try {
      await client.send(
        new RegisterInstanceCommand({
          ServiceId: serviceId,
          InstanceId: 'orders-1',
          Attributes: { AWS_INSTANCE_IPV4: '10.3.0.1', AWS_INSTANCE_PORT: '8080', zone: 'a' },
        }),
      );
      const found = await client.send(new DiscoverInstancesCommand({ NamespaceName: nsName, ServiceName: 'orders' }));
      expect(found.Instances).toHaveLength(1);
      expect(found.Instances?.[0]).toMatchObject({
        InstanceId: 'orders-1',
        NamespaceName: nsName,
        ServiceName: 'orders',
        HealthStatus: 'HEALTHY',
        Attributes: { AWS_INSTANCE_IPV4: '10.3.0.1', AWS_INSTANCE_PORT: '8080', zone: 'a' },
      });
    } finally {
      await client.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'orders-1' }));
      await client.send(new DeleteServiceCommand({ Id: serviceId }));
      await client.send(new DeleteNamespaceCommand({ Id: namespaceId }));
    }
  });
});
