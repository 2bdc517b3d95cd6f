// Security: TLS to Redis (password + client certificate), to Consul (HTTPS agent with a local CA),
// to the Cloud Map API (moto over HTTPS) and to the real Eureka server (HTTPS only, client
// certificate required; a source with the wrong CA and one without a client certificate are
// refused); an ACL token, a wrong token, the API server token, an AWS secret, the dashboard
// password and the Eureka client key in one full run, then every log line of that run is searched
// for them; a registry entry claiming a host outside the writer's allow-list is refused; the images
// run as non-root; dependencies are pinned (npm audit: see RELIABILITY.md).
// Needs: bash scripts/peers.sh up && bash scripts/peers.sh up redis-tls eureka-tls
import { eurekaInstance, EurekaTlsEnv, loadEurekaTls, loadPeersEnv, loadRedisExtras, makeCerts, PrivateConsul, PrivateMoto } from '@registry-bridge/test-peers';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { sleep, until, WORKSPACE } from './support/apps';
import { awsEnv, CloudMap, cloudMapCollectorConfig } from './support/cloudmap';
import { converged } from './support/consul-pipeline';
import { dumpOnFailure, Scenario } from './support/scenario';

/** One request to the eureka-tls peer; Node's fetch takes no client certificate. Resolves to the status. */
function eurekaTlsCall(tls: EurekaTlsEnv, method: string, path: string, body?: unknown, clientCert = true): Promise<number> {
  const keys = clientCert ? { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } : {};
  return new Promise((res, rej) => {
    const req = request(`${tls.url}${path}`, { method, ca: readFileSync(tls.caFile), ...keys, headers: { 'content-type': 'application/json' } }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.on('error', rej);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('security', () => {
  let sc: Scenario;
  let consulTls: PrivateConsul;
  let motoTls: PrivateMoto;
  dumpOnFailure(() => sc);
  afterAll(async () => {
    await sc?.tearDown();
    await consulTls?.kill();
    await motoTls?.kill();
  });

  it('a full run over TLS everywhere: converges, refuses a host outside the allow-list, and logs no secret', async () => {
    const peers = await loadPeersEnv({ peers: ['redis', 'kube', 'consulAcl'] });
    const extras = await loadRedisExtras(peers, ['redis-tls']);
    const eurekaTls = await loadEurekaTls(peers);
    sc = await new Scenario('sec').setUp(['consulAcl'], ['writer', 'collector-consul', 'collector-cloudmap', 'collector-eureka']);
    const certs = makeCerts();
    consulTls = await new PrivateConsul(certs).start();
    motoTls = await new PrivateMoto(certs).start();
    const secrets = {
      consulAclToken: sc.peers.consul.aclToken,
      wrongToken: `${randomBytes(4).toString('hex')}-dead-beef-cafe-${randomBytes(6).toString('hex')}`,
      redisPassword: extras.tls?.password as string,
      kubeToken: sc.peers.raw['RB_KUBE_WRITER_TOKEN'],
      awsSecret: randomBytes(20).toString('base64'),
      dashboardPassword: randomBytes(12).toString('hex'),
      // a line from the middle of the Eureka client's private key
      eurekaClientKey: readFileSync(eurekaTls.keyFile, 'utf8').split('\n')[5],
    };
    const redis = {
      url: extras.tls?.url,
      prefix: sc.prefix,
      password: { env: 'RB_TEST_REDIS_PASSWORD' },
      tls: { enabled: true, caFile: extras.tls?.caFile, certFile: extras.tls?.certFile, keyFile: extras.tls?.keyFile },
    };
    const env = {
      RB_TEST_REDIS_PASSWORD: secrets.redisPassword,
      RB_TEST_CONSUL_TOKEN: secrets.consulAclToken,
      RB_TEST_WRONG_TOKEN: secrets.wrongToken,
      RB_TEST_DASHBOARD_PASSWORD: secrets.dashboardPassword,
      RB__log__level: 'debug',
    };
    const id = sc.id;
    const ok = `api-${id}.mesh.internal`;
    const hijack = `login-${id}.bank.example.com`;
    const tlsSvc = `tls-${id}`;
    const src = { acl: `consul-acl-${id}`, tls: `consul-tls-${id}`, bad: `consul-bad-${id}`, cm: `cloudmap-tls-${id}` };
    const eu = { ok: `eureka-tls-${id}`, wrongCa: `eureka-wrong-ca-${id}`, noCert: `eureka-no-cert-${id}` };
    const euApp = `EUTLS-${id.toUpperCase()}`;

    // the ACL agent: writes need the management token
    const aclPut = (path: string, body?: unknown) =>
      fetch(`${sc.peers.consul.aclAddr}${path}`, { method: 'PUT', headers: { 'X-Consul-Token': secrets.consulAclToken }, body: body === undefined ? undefined : JSON.stringify(body) });
    sc.onCleanup(async () => {
      await aclPut(`/v1/agent/service/deregister/${ok}`);
      await aclPut(`/v1/agent/service/deregister/${hijack}`);
    });
    for (const [i, name] of [ok, hijack].entries()) {
      expect((await aclPut('/v1/agent/service/register', { Name: name, ID: name, Address: `10.70.0.${i + 1}`, Port: 8443, Check: { TTL: '3600s', Status: 'passing' } })).status).toBe(200);
    }
    await consulTls.register({ Name: tlsSvc, ID: tlsSvc, Address: '10.70.1.1', Port: 8080, Check: { TTL: '3600s', Status: 'passing' } });
    // the real Eureka server over HTTPS: registering needs the client certificate too
    await expect(eurekaTlsCall(eurekaTls, 'GET', '/apps', undefined, false)).rejects.toThrow();
    expect(await eurekaTlsCall(eurekaTls, 'POST', `/apps/${euApp}`, eurekaInstance(euApp, `${euApp}-1`, '10.70.3.1'))).toBe(204);
    sc.onCleanup(() => eurekaTlsCall(eurekaTls, 'DELETE', `/apps/${euApp}/${euApp}-1`));
    const cm = new CloudMap(sc.peers, motoTls.endpoint, certs.ca);
    sc.onCleanup(() => cm.close());

    const watch = { waitSeconds: 5, requestTimeoutSeconds: 2, snapshotIntervalSeconds: 4 };
    const writer = await sc.app(
      'writer',
      {
        ...sc.writerConfig({
          // a registry name must never become an arbitrary host: only *.mesh.internal for this source
          [src.acl]: { kind: 'consul', hostTemplate: '{service}', allowedHostSuffixes: ['.mesh.internal'] },
          [src.tls]: { kind: 'consul' },
          [src.bad]: { kind: 'consul' },
          [src.cm]: { kind: 'cloudmap' },
          [eu.ok]: { kind: 'eureka' },
          [eu.wrongCa]: { kind: 'eureka' },
          [eu.noCert]: { kind: 'eureka' },
        }),
        redis,
        dashboard: { enabled: true, password: { env: 'RB_TEST_DASHBOARD_PASSWORD' } },
        log: { level: 'debug' },
      },
      env,
    );
    const collector = await sc.app(
      'collector-consul',
      {
        redis,
        collector: { heartbeatSeconds: 2 },
        readinessGraceSeconds: 5,
        sources: [
          { name: src.acl, address: sc.peers.consul.aclAddr, token: { env: 'RB_TEST_CONSUL_TOKEN' }, filters: { allow: [ok, hijack] }, watch },
          { name: src.bad, address: sc.peers.consul.aclAddr, token: { env: 'RB_TEST_WRONG_TOKEN' }, filters: { allow: [ok] }, watch },
          { name: src.tls, address: consulTls.addr, tls: { caFile: certs.ca }, filters: { allow: [tlsSvc] }, watch },
        ],
      },
      env,
    );

    // Cloud Map over HTTPS: the SDK trusts the local CA through NODE_EXTRA_CA_CERTS
    const nsName = `sec-${id}.local`;
    const nsId = await cm.namespace(nsName);
    const svcId = await cm.service(nsId, 'payments');
    await cm.register(svcId, 'p1', { AWS_INSTANCE_IPV4: '10.70.2.1', AWS_INSTANCE_PORT: '8080' });
    const cmCfg = cloudMapCollectorConfig(sc, src.cm, [nsName], motoTls.endpoint);
    await sc.app('collector-cloudmap', { ...cmCfg, redis }, { ...awsEnv(sc.peers, secrets.awsSecret), NODE_EXTRA_CA_CERTS: certs.ca, ...env });

    const euTls = { caFile: eurekaTls.caFile, certFile: eurekaTls.certFile, keyFile: eurekaTls.keyFile };
    const euSource = (name: string, tls: Record<string, unknown>) => ({ name, serviceUrls: [eurekaTls.url], tls, pollIntervalSeconds: 2, timeoutSeconds: 2, apps: { allow: [euApp] } });
    const euCollector = await sc.app(
      'collector-eureka',
      {
        redis,
        collector: { heartbeatSeconds: 2 },
        sources: [
          euSource(eu.ok, euTls),
          // this test's own CA, which did not sign the server's certificate
          euSource(eu.wrongCa, { ...euTls, caFile: certs.ca }),
          // the server requires a client certificate
          euSource(eu.noCert, { caFile: eurekaTls.caFile }),
        ],
      },
      env,
    );

    await converged(sc, [ok, tlsSvc, 'payments', euApp.toLowerCase()], 1);
    await until('the hijack refused', async () => JSON.stringify((await writer.json<{ refused: unknown }>('/status')).refused).includes(hijack));
    expect(await sc.seOf(hijack)).toBeUndefined();
    expect((await sc.ses()).flatMap((o) => o.spec.hosts ?? []).filter((h) => h.includes('bank.example.com'))).toEqual([]);
    // the wrong token makes its source unready, with an error (that must not carry the token)
    await until('the wrong-token source is not ready', async () => (await collector.get('/health/ready')).status === 503, 30000, 500);
    // Eureka: the source with the right CA and client certificate reads, the other two never do
    const ready = await until('the Eureka TLS sources judged', async () => {
      const r = await euCollector.get('/health/ready');
      const body = JSON.parse(r.text) as { info?: Record<string, unknown>; error?: Record<string, { message?: string }> };
      return r.status === 503 && body.info?.[`eureka:${eu.ok}`] && body.error?.[`eureka:${eu.wrongCa}`] && body.error?.[`eureka:${eu.noCert}`] ? body : undefined;
    }, 30000, 500);
    const fetchFailed = (source: string) => euCollector.tail(200000).split('\n').find((l) => l.includes(source) && l.includes('eureka fetch failed'));
    const [wrongCaLine, noCertLine] = await until('the TLS failures logged', async () => {
      const lines = [fetchFailed(eu.wrongCa), fetchFailed(eu.noCert)];
      return lines.every(Boolean) ? (lines as string[]) : undefined;
    }, 30000, 500);
    expect(wrongCaLine).toMatch(/certificate|verify/i);
    // the server's TLS alert (or, depending on timing, the reset that follows it)
    expect(noCertLine).toMatch(/certificate|alert|ECONNRESET|socket hang up/i);
    // the dashboard: refused without, served with the password (both attempts are logged)
    expect((await writer.get('/queues')).status).toBe(401);
    const auth = Buffer.from(`admin:${secrets.dashboardPassword}`).toString('base64');
    expect((await fetch(`${writer.base}/queues`, { headers: { authorization: `Basic ${auth}` } })).status).toBe(200);
    await sleep(3000);

    const logs = sc.apps.map((a) => ({ file: a.logFile, text: readFileSync(a.logFile, 'utf8') }));
    expect(logs.reduce((n, l) => n + l.text.length, 0)).toBeGreaterThan(10000); // the run did log
    const leaks = Object.entries(secrets).flatMap(([name, value]) => logs.filter((l) => l.text.includes(value)).map((l) => `${name} in ${l.file}`));
    expect(leaks).toEqual([]);
    process.stdout.write(`[observed] security: ${logs.length} log files, ${logs.reduce((n, l) => n + l.text.split('\n').length, 0)} lines at debug level, 0 of ${Object.keys(secrets).length} secrets found; hijack refused: ${hijack}\n`);
    process.stdout.write(`[observed] security eureka-tls: converged over HTTPS with client certificate; not ready: ${JSON.stringify(ready.error)}\n[observed] wrong CA: ${wrongCaLine}\n[observed] no client certificate: ${noCertLine}\n`);
  });

  it('the images run as non-root', () => {
    const dockerfile = readFileSync(join(WORKSPACE, 'Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const runtime = stages.find((s) => /^\S+ AS runtime/m.test(s)) ?? '';
    expect(runtime).toMatch(/^USER 10001:10001$/m);
    // every app image is built on the runtime stage and never switches back to root
    for (const app of ['writer', 'collector-consul', 'collector-eureka', 'collector-cloudmap']) {
      const stage = stages.find((s) => s.startsWith(`runtime AS ${app}`));
      expect({ app, stage: !!stage, root: /^USER\s+(root|0)(:|\s|$)/m.test(stage ?? '') }).toEqual({ app, stage: true, root: false });
    }
  });

  it('dependencies are pinned exactly and the lockfile covers every one of them', () => {
    // `npm audit` itself needs the registry's advisory endpoint (see RELIABILITY.md): pinning is
    // what makes its answer, and every upgrade, a reviewed change of package.json
    const pkg = JSON.parse(readFileSync(join(WORKSPACE, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    const lock = JSON.parse(readFileSync(join(WORKSPACE, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    const deps = { ...pkg['dependencies'], ...pkg['devDependencies'] };
    const loose = Object.entries(deps).filter(([, v]) => !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(v));
    expect(loose).toEqual([]);
    const drift = Object.entries(deps).filter(([n, v]) => lock.packages[`node_modules/${n}`]?.version !== v);
    expect(drift).toEqual([]);
  });
});
