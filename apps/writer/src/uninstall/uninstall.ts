// `helm uninstall` with uninstall.deleteWrittenResources: the chart's post-delete Job runs the
// writer image with `uninstall`. It removes every ServiceEntry and WorkloadEntry of this
// installation, in every namespace, once no writer holds the Lease (a writer still running would
// write them again), and fails, naming what is left, rather than stopping half-way.
import { KubeClient, KubeError, KubeObject } from '@registry-bridge/kube';
import { isOwnedBy, ownershipSelector } from '@registry-bridge/translation';
import { z } from 'zod';

export const WRITTEN_KINDS = [
  { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry' },
  { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry' },
] as const;

const envSchema = z.object({
  RB_UNINSTALL_INSTALLATION: z.string().min(1).max(63),
  RB_UNINSTALL_LEASE_NAMESPACE: z.string().min(1).max(63),
  RB_UNINSTALL_LEASE_NAME: z.string().min(1).max(253),
  /** The writers' lease duration: a holder that has not renewed for this long is gone. */
  RB_UNINSTALL_LEASE_DURATION_SECONDS: z.coerce.number().int().min(1).max(3600).default(15),
  /** How long to wait for the Lease to be free, then for every object to be gone. */
  RB_UNINSTALL_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86400).default(240),
});
export type UninstallOptions = {
  installation: string;
  lease: { namespace: string; name: string; durationSeconds: number };
  timeoutSeconds: number;
};

/** The options from the environment the chart's Job sets; a bad or missing variable is named. */
export function uninstallOptionsFromEnv(env: NodeJS.ProcessEnv): UninstallOptions {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`uninstall: bad environment: ${issues}`);
  }
  const e = parsed.data;
  return {
    installation: e.RB_UNINSTALL_INSTALLATION,
    lease: { namespace: e.RB_UNINSTALL_LEASE_NAMESPACE, name: e.RB_UNINSTALL_LEASE_NAME, durationSeconds: e.RB_UNINSTALL_LEASE_DURATION_SECONDS },
    timeoutSeconds: e.RB_UNINSTALL_TIMEOUT_SECONDS,
  };
}

type Lease = KubeObject & { spec: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number } };
export type UninstallKube = Pick<KubeClient, 'get' | 'list' | 'delete'>;
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

export interface UninstallResult {
  deleted: string[];
}

/**
 * Waits until no writer holds the Lease, as leader election judges it (no holder, or a record
 * unchanged for the lease duration by our own clock), then deletes this installation's objects
 * round after round until a list finds none. Throws with the objects left when time runs out.
 */
export async function uninstallWritten(kube: UninstallKube, opts: UninstallOptions, log: (line: string) => void, clock: Clock = realClock): Promise<UninstallResult> {
  const deadline = clock.now() + opts.timeoutSeconds * 1000;
  let observed = '';
  let observedAt = clock.now();
  for (;;) {
    const lease = await kube.get<Lease>('coordination.k8s.io/v1', 'Lease', opts.lease.namespace, opts.lease.name);
    const holder = lease?.spec.holderIdentity ?? '';
    const record = `${holder}|${lease?.spec.renewTime ?? ''}`;
    const changed = record !== observed;
    if (changed) {
      observed = record;
      observedAt = clock.now();
    }
    const duration = (lease?.spec.leaseDurationSeconds ?? opts.lease.durationSeconds) * 1000;
    if (!holder || clock.now() - observedAt > duration) break;
    if (clock.now() > deadline) throw new Error(`uninstall: writer ${holder} still holds Lease ${opts.lease.namespace}/${opts.lease.name}; nothing deleted`);
    if (changed) log(`uninstall: waiting until writer ${holder} releases Lease ${opts.lease.namespace}/${opts.lease.name} or stops renewing it`);
    await clock.sleep(1000);
  }

  const selector = ownershipSelector(opts.installation);
  const deleted: string[] = [];
  for (let round = 1; ; round++) {
    const left: string[] = [];
    const failures: string[] = [];
    // WorkloadEntries first: a ServiceEntry never selects endpoints that are already gone.
    for (const { apiVersion, kind } of WRITTEN_KINDS) {
      for (const obj of await kube.list<KubeObject>(apiVersion, kind, undefined, selector)) {
        // The selector is the API server's; ownership is checked here too before any delete.
        if (!isOwnedBy(obj.metadata, opts.installation)) continue;
        const name = `${kind} ${obj.metadata.namespace}/${obj.metadata.name}`;
        left.push(name);
        try {
          await kube.delete(apiVersion, kind, obj.metadata.namespace ?? '', obj.metadata.name, { uid: obj.metadata.uid });
          deleted.push(name);
        } catch (err) {
          failures.push(`${name}: ${err instanceof KubeError || err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    if (left.length === 0) {
      log(`uninstall: no ServiceEntry or WorkloadEntry of installation ${opts.installation} left (${deleted.length} deleted)`);
      return { deleted };
    }
    if (clock.now() > deadline) {
      throw new Error(`uninstall: ${left.length} object(s) of installation ${opts.installation} left after ${round} round(s): ${(failures.length ? failures : left).slice(0, 20).join('; ')}`);
    }
    if (failures.length) log(`uninstall: round ${round}: ${failures.length} delete(s) failed, retrying: ${failures.slice(0, 5).join('; ')}`);
    await clock.sleep(Math.min(5000, 500 * round));
  }
}

/** The `uninstall` entrypoint: in-cluster credentials, exit code 1 on any failure. */
export async function uninstallMain(): Promise<void> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const opts = uninstallOptionsFromEnv(process.env);
    const kube = KubeClient.fromOptions({ qps: 20, burst: 40, maxAttempts: 6, fieldManager: 'registry-bridge-uninstall' });
    await uninstallWritten(kube, opts, log);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
