// The package ships no types; these cover what the integration specs use (register, heartbeat, deregister).
declare module 'eureka-js-client' {
  export interface EurekaClientConfig {
    instance: Record<string, unknown>;
    eureka: Record<string, unknown>;
    logger?: { debug(...a: unknown[]): void; info(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void };
    requestMiddleware?: (request: unknown, done: (request: unknown) => void) => void;
  }
  export class Eureka {
    constructor(config: EurekaClientConfig);
    start(callback?: (err?: Error | null) => void): void;
    stop(callback?: (err?: Error | null) => void): void;
    on(event: 'registered' | 'deregistered' | 'heartbeat', listener: () => void): this;
    heartbeat?: NodeJS.Timeout;
  }
}
