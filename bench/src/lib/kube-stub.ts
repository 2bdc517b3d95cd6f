// A Kubernetes API server stub for the queue-throughput measurement: it answers the few calls the
// writer's client makes (discovery, version, get/list/watch, apply/create/replace/delete) from
// memory, at once, so what is measured is our ingest + reconcile path, not the API server.
// A benchmark stub at the client edge, not a test fake: nothing asserts against it.
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';

interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; [k: string]: unknown };
  [k: string]: unknown;
}

const RESOURCES: Record<string, Array<{ name: string; kind: string }>> = {
  '/apis/networking.istio.io/v1': [
    { name: 'serviceentries', kind: 'ServiceEntry' },
    { name: 'workloadentries', kind: 'WorkloadEntry' },
  ],
  '/apis/coordination.k8s.io/v1': [{ name: 'leases', kind: 'Lease' }],
  '/api/v1': [
    { name: 'events', kind: 'Event' },
    { name: 'namespaces', kind: 'Namespace' },
  ],
};

export class KubeStub {
  private server?: Server;
  private rv = 1;
  private readonly objects = new Map<string, Obj>(); // collection path + '/' + name
  private readonly watchers = new Map<string, Set<ServerResponse>>(); // collection path
  /** Requests by verb (create/apply/update/delete/get/list/watch). */
  readonly counts: Record<string, number> = {};
  /** Arrival times of writes, for a rate over time. */
  readonly writeTimes: number[] = [];

  async start(): Promise<number> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const set of this.watchers.values()) for (const res of set) res.end();
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  writeKubeconfig(file: string, port: number): void {
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: stub, cluster: { server: "http://127.0.0.1:' + port + '", insecure-skip-tls-verify: true } }]', // client-node refuses plain HTTP otherwise
        'users: [{ name: stub, user: { token: stub } }]',
        'contexts: [{ name: stub, context: { cluster: stub, user: stub } }]',
        'current-context: stub',
        '',
      ].join('\n'),
    );
  }

  get writes(): number {
    return (this.counts['create'] ?? 0) + (this.counts['apply'] ?? 0) + (this.counts['update'] ?? 0) + (this.counts['delete'] ?? 0);
  }

  private count(verb: string): void {
    this.counts[verb] = (this.counts[verb] ?? 0) + 1;
    if (verb === 'create' || verb === 'apply' || verb === 'update' || verb === 'delete') this.writeTimes.push(Date.now());
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private notFound(res: ServerResponse, name = ''): void {
    this.send(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${name} not found` });
  }

  private notify(collection: string, type: string, obj: Obj): void {
    const line = `${JSON.stringify({ type, object: obj })}\n`;
    for (const res of this.watchers.get(collection) ?? []) res.write(line);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.route(req, res, Buffer.concat(chunks).toString());
      } catch (err) {
        this.send(res, 500, { kind: 'Status', code: 500, message: String(err) });
      }
    });
  }

  private route(req: IncomingMessage, res: ServerResponse, text: string): void {
    const url = new URL(req.url ?? '/', 'http://stub');
    const path = url.pathname.replace(/\/$/, '');
    const method = req.method ?? 'GET';
    if (path === '/version') return this.send(res, 200, { major: '1', minor: '35', gitVersion: 'v1.35.0-bench-stub' });
    if (RESOURCES[path]) {
      return this.send(res, 200, {
        kind: 'APIResourceList',
        groupVersion: path.replace(/^\/apis?\//, ''),
        resources: RESOURCES[path].map((r) => ({ name: r.name, singularName: r.name.replace(/s$/, ''), namespaced: r.name !== 'namespaces', kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] })),
      });
    }
    // <group-version path>/namespaces/<ns>/<plural>[/<name>]
    const m = /^(\/apis?\/(?:[^/]+\/)?v1)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (!m) return this.notFound(res, path);
    const collection = `${m[1]}/namespaces/${m[2]}/${m[3]}`;
    const name = m[4];
    if (!name) {
      if (method === 'GET' && url.searchParams.get('watch')) {
        this.count('watch');
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        const set = this.watchers.get(collection) ?? new Set();
        set.add(res);
        this.watchers.set(collection, set);
        req.on('close', () => set.delete(res));
        return;
      }
      if (method === 'GET') {
        this.count('list');
        const items = [...this.objects.entries()].filter(([k]) => k.startsWith(`${collection}/`)).map(([, o]) => o);
        return this.send(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items });
      }
      if (method === 'POST') {
        this.count('create');
        const obj = JSON.parse(text) as Obj;
        const key = `${collection}/${obj.metadata.name}`;
        if (this.objects.has(key)) return this.send(res, 409, { kind: 'Status', code: 409, reason: 'AlreadyExists', message: 'exists' });
        return this.store(res, collection, key, obj, 201, 'ADDED');
      }
      return this.send(res, 405, { kind: 'Status', code: 405 });
    }
    const key = `${collection}/${name}`;
    const live = this.objects.get(key);
    if (method === 'GET') {
      this.count('get');
      return live ? this.send(res, 200, live) : this.notFound(res, name);
    }
    if (method === 'PATCH') {
      this.count('apply');
      const obj = JSON.parse(text) as Obj;
      return this.store(res, collection, key, { ...obj, metadata: { ...(live?.metadata ?? {}), ...obj.metadata, uid: live?.metadata.uid } }, live ? 200 : 201, live ? 'MODIFIED' : 'ADDED');
    }
    if (method === 'PUT') {
      this.count('update');
      if (!live) return this.notFound(res, name);
      return this.store(res, collection, key, JSON.parse(text) as Obj, 200, 'MODIFIED');
    }
    if (method === 'DELETE') {
      this.count('delete');
      if (!live) return this.notFound(res, name);
      this.objects.delete(key);
      this.notify(collection, 'DELETED', live);
      return this.send(res, 200, { kind: 'Status', status: 'Success' });
    }
    return this.send(res, 405, { kind: 'Status', code: 405 });
  }

  private store(res: ServerResponse, collection: string, key: string, obj: Obj, status: number, type: string): void {
    const ns = collection.split('/').slice(-2)[0];
    obj.metadata = { ...obj.metadata, namespace: obj.metadata.namespace ?? ns, resourceVersion: String(++this.rv), uid: obj.metadata.uid ?? `uid-${this.rv}`, generation: 1 };
    this.objects.set(key, obj);
    this.notify(collection, type, obj);
    this.send(res, status, obj);
  }
}
