import type { EventRecorder, EventTarget } from '@registry-bridge/kube';

/** Injection tokens of the writer's shared connections and settings (built in writer.providers.ts). */
export const REDIS = 'RB_WRITER_REDIS';
export const KUBE = 'RB_WRITER_KUBE';
export const LOGGER = 'RB_WRITER_LOGGER';
/** Map<source name, SourceRules> of the configured sources. */
export const SOURCE_RULES = 'RB_WRITER_SOURCE_RULES';
export const EVENTS = 'RB_WRITER_EVENTS';

/** Where Kubernetes Events go: none when `events.enabled` is off; `fallback` for refusals with no object of their own. */
export interface WriterEvents {
  recorder?: Pick<EventRecorder, 'record'>;
  fallback: EventTarget;
}
