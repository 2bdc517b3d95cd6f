import { KubeClient, KubeObject } from './kube-client';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

/**
 * Records core/v1 Events on the objects we write, like client-go's recorder: the same
 * (object, reason, message) within `dedupeSeconds` is counted locally, not written again, so
 * events never multiply the writes to the API server.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly kube: KubeClient,
    private readonly component: string,
    private readonly instance: string,
    private readonly dedupeSeconds = 600,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): Promise<boolean> {
    const id = `${target.namespace}/${target.kind}/${target.name}|${reason}|${message}`;
    const t = this.now();
    const last = this.recent.get(id);
    if (last !== undefined && t - last < this.dedupeSeconds * 1000) return false;
    this.recent.set(id, t);
    if (this.recent.size > 10_000) this.prune(t);
    const stamp = new Date(t);
    await this.kube.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${target.name}.${t.toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`.slice(0, 253), namespace: target.namespace },
      involvedObject: { apiVersion: target.apiVersion, kind: target.kind, namespace: target.namespace, name: target.name, uid: target.uid },
      reason,
      message: message.slice(0, 1024),
      type,
      source: { component: this.component, host: this.instance },
      reportingComponent: this.component,
      reportingInstance: this.instance.slice(0, 128),
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
    } as unknown as KubeObject);
    return true;
  }

  private prune(t: number): void {
    for (const [k, at] of this.recent) if (t - at >= this.dedupeSeconds * 1000) this.recent.delete(k);
  }
}
