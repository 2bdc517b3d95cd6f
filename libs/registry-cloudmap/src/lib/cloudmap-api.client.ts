import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  GetInstancesHealthStatusCommand,
  GetServiceCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  ServiceDiscoveryClient,
  ServiceDiscoveryClientConfig,
} from '@aws-sdk/client-servicediscovery';
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { CloudMapApi, CloudMapSourceConfig } from './cloudmap-config.schema';
import { BudgetGrant, RequestBudget, sleep } from './request-budget.service';

export type RequestOutcome = 'ok' | 'throttled' | 'error';

/** What the client reports per request; the app turns it into metrics. */
export interface CloudMapApiObserver {
  onRequest(api: CloudMapApi, outcome: RequestOutcome, seconds: number): void;
  onBudget(api: CloudMapApi, grant: BudgetGrant): void;
  onThrottle(api: CloudMapApi, factor: number): void;
}

export const NOOP_API_OBSERVER: CloudMapApiObserver = { onRequest: () => undefined, onBudget: () => undefined, onThrottle: () => undefined };

const COMMAND_API = new Map<unknown, CloudMapApi>([
  [ListNamespacesCommand, 'ListNamespaces'],
  [ListServicesCommand, 'ListServices'],
  [GetServiceCommand, 'GetService'],
  [DiscoverInstancesRevisionCommand, 'DiscoverInstancesRevision'],
  [DiscoverInstancesCommand, 'DiscoverInstances'],
  [ListInstancesCommand, 'ListInstances'],
  [GetInstancesHealthStatusCommand, 'GetInstancesHealthStatus'],
]);

export function isThrottle(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } } | undefined;
  if (!e || typeof e !== 'object') return false;
  return (
    e.name === 'ThrottlingException' ||
    e.name === 'RequestLimitExceeded' ||
    e.name === 'TooManyRequestsException' ||
    e.$metadata?.httpStatusCode === 429 ||
    e.$retryable?.throttling === true
  );
}

export type ThrottleOptions = Pick<CloudMapSourceConfig['throttle'], 'maxRetries' | 'baseDelayMs' | 'maxDelayMs'>;

/**
 * ServiceDiscoveryClient whose every request (each page of a paginator included) first takes a
 * token from the budget; a throttled request halves the shared rate and is retried with jittered
 * exponential backoff. The SDK's own retries are off (maxAttempts 1): they would bypass the budget.
 * A subclass, so the SDK paginators (which check instanceof) use it as is.
 */
export class BudgetedServiceDiscoveryClient extends ServiceDiscoveryClient {
  constructor(
    config: ServiceDiscoveryClientConfig,
    private readonly budget: RequestBudget,
    private readonly throttle: ThrottleOptions,
    private readonly observer: CloudMapApiObserver = NOOP_API_OBSERVER,
  ) {
    super({ ...config, maxAttempts: 1 });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override send(command: any, ...rest: any[]): any {
    if (rest.some((a) => typeof a === 'function')) throw new Error('callback style is not supported');
    return this.sendBudgeted(command, rest[0]);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async sendBudgeted(command: any, options: unknown): Promise<unknown> {
    const api = COMMAND_API.get(command?.constructor);
    if (!api) throw new Error(`no request budget for ${command?.constructor?.name ?? 'this command'}`);
    for (let attempt = 0; ; attempt++) {
      this.observer.onBudget(api, await this.budget.take(api));
      const start = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
      try {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const out = await (super.send as any)(command, options);
        this.observer.onRequest(api, 'ok', seconds());
        return out;
      } catch (err) {
        if (!isThrottle(err)) {
          this.observer.onRequest(api, 'error', seconds());
          throw err;
        }
        this.observer.onRequest(api, 'throttled', seconds());
        this.observer.onThrottle(api, await this.budget.penalize(api));
        if (attempt >= this.throttle.maxRetries) throw err;
        const cap = Math.min(this.throttle.maxDelayMs, this.throttle.baseDelayMs * 2 ** attempt);
        await sleep(cap / 2 + Math.random() * (cap / 2));
      }
    }
  }
}

/** Credentials: a profile or the default chain (env, shared config, web identity/IRSA, ECS, IMDS), then the role of the source. */
export function credentialsFor(source: Pick<CloudMapSourceConfig, 'name' | 'region' | 'profile' | 'assumeRole' | 'endpoint'>): ServiceDiscoveryClientConfig['credentials'] {
  const base = source.profile ? fromIni({ profile: source.profile }) : fromNodeProviderChain();
  if (!source.assumeRole) return base;
  return fromTemporaryCredentials({
    masterCredentials: base,
    params: {
      RoleArn: source.assumeRole.roleArn,
      RoleSessionName: source.assumeRole.sessionName ?? `registry-bridge-${source.name}`.slice(0, 64),
      ExternalId: source.assumeRole.externalId,
      DurationSeconds: source.assumeRole.durationSeconds,
    },
    clientConfig: { region: source.region },
  });
}

export interface CreateClientOptions {
  budget: RequestBudget;
  observer?: CloudMapApiObserver;
  /** Overrides the credential chain (tests). */
  credentials?: ServiceDiscoveryClientConfig['credentials'];
}

export function createCloudMapClient(source: CloudMapSourceConfig, options: CreateClientOptions): BudgetedServiceDiscoveryClient {
  return new BudgetedServiceDiscoveryClient(
    {
      region: source.region,
      credentials: options.credentials ?? credentialsFor(source),
      ...(source.endpoint ? { endpoint: source.endpoint, disableHostPrefix: true } : {}),
      // throwOnRequestTimeout: without it the handler only logs a warning and the request hangs,
      // so a frozen endpoint never reads as unreachable (found by the registry outage fault spec)
      requestHandler: { requestTimeout: source.requestTimeoutMs, connectionTimeout: Math.min(source.requestTimeoutMs, 5000), throwOnRequestTimeout: true },
    },
    options.budget,
    source.throttle,
    options.observer,
  );
}
