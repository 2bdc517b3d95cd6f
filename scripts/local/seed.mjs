// Seeds the local peers with a small, realistic example: services with healthy and unhealthy
// instances, tags and metadata, in Consul, Eureka and Cloud Map. Idempotent (re-registering
// replaces). Reads the peers' env file given as the first argument.
import { readFileSync } from 'node:fs';
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
  UpdateInstanceCustomHealthStatusCommand,
} from '@aws-sdk/client-servicediscovery';

const env = Object.fromEntries(
  readFileSync(process.argv[2], 'utf8')
    .split('\n')
    .map((l) => /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(l.trim()))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);

async function put(url, body, headers = {}) {
  const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`PUT ${url}: ${res.status} ${await res.text()}`);
}

async function seedConsul() {
  const c = env.RB_CONSUL_ADDR;
  const svc = (Name, ID, Address, Port, extra = {}) => put(`${c}/v1/agent/service/register`, { Name, ID, Address, Port, Check: { TTL: '24h', Status: 'passing', CheckID: `check-${ID}` }, ...extra });
  await svc('web', 'web-1', '10.10.0.11', 8080, { Tags: ['version=v1', 'team|frontend', 'primary'], Meta: { protocol: 'http' } });
  await svc('web', 'web-2', '10.10.0.12', 8080, { Tags: ['version=v2', 'team|frontend'], Meta: { protocol: 'http' } });
  await svc('web', 'web-3', '10.10.0.13', 8080, { Tags: ['version=v2'], Meta: { protocol: 'http' } });
  await put(`${c}/v1/agent/check/fail/check-web-3?note=demo`); // an unhealthy instance
  await svc('payments-api', 'payments-1', '10.10.1.21', 9090, { Tags: ['tier=backend'], Meta: { protocol: 'grpc', owner: 'payments' } });
  await svc('ledger-db', 'ledger-1', '10.10.2.31', 5432, { Meta: { protocol: 'tcp' } });
}

async function seedEureka() {
  const base = env.RB_EUREKA_URL;
  const reg = async (app, id, ip, port, status, metadata = {}) => {
    const res = await fetch(`${base}/apps/${app}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        instance: {
          instanceId: id, hostName: `${id}.local`, app, ipAddr: ip, status, vipAddress: app.toLowerCase(),
          port: { $: port, '@enabled': 'true' }, securePort: { $: 8443, '@enabled': 'false' },
          dataCenterInfo: { '@class': 'com.netflix.appinfo.AmazonInfo', name: 'Amazon', metadata: { 'availability-zone': 'us-east-1a' } },
          leaseInfo: { durationInSecs: 3600, renewalIntervalInSecs: 30 },
          metadata,
        },
      }),
    });
    if (!res.ok && res.status !== 204) throw new Error(`eureka register ${app}/${id}: ${res.status}`);
  };
  await reg('ORDERS', 'orders-1', '10.20.0.11', 8080, 'UP', { version: 'v3', 'team': 'checkout' });
  await reg('ORDERS', 'orders-2', '10.20.0.12', 8080, 'UP', { version: 'v3' });
  await reg('ORDERS', 'orders-3', '10.20.0.13', 8080, 'DOWN', { version: 'v2' });
  await reg('INVENTORY_SERVICE', 'inventory-1', '10.20.1.21', 8081, 'UP', { protocol: 'http' });
}

async function seedCloudMap() {
  const sd = new ServiceDiscoveryClient({
    endpoint: env.RB_CLOUDMAP_ENDPOINT,
    region: env.RB_AWS_REGION,
    credentials: { accessKeyId: env.RB_AWS_ACCESS_KEY_ID, secretAccessKey: env.RB_AWS_SECRET_ACCESS_KEY },
  });
  const nsName = 'demo.local';
  let ns = (await sd.send(new ListNamespacesCommand({}))).Namespaces?.find((n) => n.Name === nsName);
  if (!ns) {
    await sd.send(new CreateHttpNamespaceCommand({ Name: nsName }));
    for (let i = 0; i < 50 && !ns; i++) {
      ns = (await sd.send(new ListNamespacesCommand({}))).Namespaces?.find((n) => n.Name === nsName);
      if (!ns) await new Promise((r) => setTimeout(r, 100));
    }
  }
  const services = (await sd.send(new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [ns.Id], Condition: 'EQ' }] }))).Services ?? [];
  let svc = services.find((s) => s.Name === 'catalog');
  if (!svc) svc = (await sd.send(new CreateServiceCommand({ Name: 'catalog', NamespaceId: ns.Id, HealthCheckCustomConfig: {} }))).Service;
  const inst = (InstanceId, ip, az, health) =>
    sd.send(new RegisterInstanceCommand({ ServiceId: svc.Id, InstanceId, Attributes: { AWS_INSTANCE_IPV4: ip, AWS_INSTANCE_PORT: '8080', AVAILABILITY_ZONE: az, stage: 'prod', AWS_INIT_HEALTH_STATUS: health } }));
  await inst('catalog-a', '10.30.0.11', 'us-east-1a', 'HEALTHY');
  await inst('catalog-b', '10.30.0.12', 'us-east-1b', 'HEALTHY');
  await inst('catalog-c', '10.30.0.13', 'us-east-1c', 'UNHEALTHY');
  await sd.send(new UpdateInstanceCustomHealthStatusCommand({ ServiceId: svc.Id, InstanceId: 'catalog-c', Status: 'UNHEALTHY' })).catch(() => undefined);
}

const results = await Promise.allSettled([seedConsul(), seedEureka(), seedCloudMap()]);
const names = ['Consul', 'Eureka', 'Cloud Map'];
let failed = false;
results.forEach((r, i) => {
  if (r.status === 'rejected') {
    failed = true;
    console.error(`seed ${names[i]}: ${r.reason?.message ?? r.reason}`);
  } else console.log(`seeded ${names[i]}`);
});
process.exit(failed ? 1 : 0);
