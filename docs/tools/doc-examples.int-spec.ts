import { AppProcess, KubeAdmin, kubePath, loadPeersEnv, PeersEnv, waitFor } from '@registry-bridge/test-peers';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { allExamples, APP_SCHEMAS, AppConfigKind, configFileOf, DocExample, parseExample, where, WORKSPACE } from './doc-examples';

// The examples marked `local` are what a reader copies to try an app against `scripts/peers.sh up`:
// each starts as the built app with the block as its config and must become ready against the
// real peers, so a wrong port or key fails here rather than for the reader.
jest.setTimeout(150_000);

const examples = allExamples();
const locals = examples.filter((e): e is DocExample & { kind: AppConfigKind } => e.local && !!e.kind && e.kind in APP_SCHEMAS);
let peers: PeersEnv;
const running: AppProcess[] = [];

beforeAll(async () => {
  peers = await loadPeersEnv({ peers: ['redis', 'consul', 'cloudMap', 'kube'] });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

it('there is a local example for the Consul and the Cloud Map collector', () => {
  expect(locals.map((e) => e.kind).sort()).toEqual(expect.arrayContaining(['collector-cloudmap-config', 'collector-consul-config']));
});

it.each(locals.map((e) => [where(e), e] as const))('%s: a value commented with a peers env key is that key\'s value', (_w, e) => {
  const wrong = e.text
    .split('\n')
    .flatMap((line) => [...line.matchAll(/#.*?\b(RB_[A-Z0-9_]+)/g)].map((m) => ({ line, key: m[1] })))
    .filter(({ line, key }) => !line.split('#')[0].includes(peers.raw[key] ?? `<${key} missing from the env file>`))
    .map(({ line, key }) => `${line.trim()} (the peers have ${key}=${peers.raw[key]})`);
  expect(wrong).toEqual([]);
});

it.each(locals.map((e) => [where(e), e] as const))('%s: the built app starts with it and becomes ready against the local peers', async (_w, e) => {
  const app = APP_SCHEMAS[e.kind].app;
  const main = join(WORKSPACE, 'dist/apps', app, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx nx run-many -t build\``);
  const port = 19900 + Math.floor(Math.random() * 90);
  // Only the listener and the key prefix are moved (other suites share the machine and the
  // peers' Redis); everything the reader copies is used as written. The AWS credentials are the
  // moto ones of the env file, as the Cloud Map page tells the reader to export.
  const { file, env } = configFileOf(e, {
    RB__http__port: String(port),
    RB__redis__prefix: `{rbdoc-${randomBytes(3).toString('hex')}}`,
    AWS_ACCESS_KEY_ID: peers.cloudMap.accessKeyId,
    AWS_SECRET_ACCESS_KEY: peers.cloudMap.secretAccessKey,
  });
  const proc = new AppProcess({ name: app, main, port, configFile: file, env });
  running.push(proc);
  await proc.start();
  let last = { status: 0, text: '' };
  const ready = await waitFor(
    `${where(e)} ready`,
    async () => {
      last = await proc.ready();
      return last.status === 200;
    },
    60_000,
    250,
  ).catch(() => false);
  expect([ready, last.status, ready ? '' : `${last.text}\n${proc.tail(1000)}`]).toEqual([true, 200, '']);
});

// Istio objects shown in the docs are what the writer applies (abridged: names and apiVersion may
// be left out); the API server with Istio's CRDs checks them, unknown fields included.
async function dryRun(e: DocExample): Promise<string[]> {
  const admin = KubeAdmin.forPeers(peers);
  const answers: string[] = [];
  for (const [i, doc] of (parseExample(e) as Array<{ apiVersion?: string; kind: string; metadata?: Record<string, unknown>; spec: unknown }>).entries()) {
    const obj = { ...doc, apiVersion: doc.apiVersion ?? 'networking.istio.io/v1', metadata: { name: `doc-example-${i}`, ...doc.metadata, namespace: 'registry-bridge' } };
    const r = await admin.call('POST', `${kubePath(obj.kind, 'registry-bridge', undefined, obj.apiVersion)}?dryRun=All&fieldValidation=Strict`, obj);
    answers.push(`${obj.kind} ${r.status}${r.status >= 300 ? ` ${JSON.stringify(r.body).slice(0, 400)}` : ''}`);
  }
  return answers;
}

it('the dry run refuses a misspelt field', async () => {
  const [first] = examples.filter((e) => e.kind === 'istio-manifest');
  const answers = await dryRun({ ...first, text: first.text.replace(/^spec:/m, 'spec:\n  hostz: [x.example]') });
  expect(answers[0]).toMatch(/^ServiceEntry 4\d\d .*hostz/);
});

it.each(examples.filter((e) => e.kind === 'istio-manifest').map((e) => [where(e), e] as const))('%s is accepted by the API server with Istio\'s CRDs (server dry run, strict fields)', async (_w, e) => {
  const answers = await dryRun(e);
  expect(answers.length).toBeGreaterThan(0);
  expect(answers.filter((a) => !/ 201$/.test(a))).toEqual([]);
});
