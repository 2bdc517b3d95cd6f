// Sizes and durations of a run. `full` is the configuration (about 30 minutes on the
// 2-core machine); `ci` is the same code at a size that runs in under ~3 minutes.
export interface Profile {
  name: 'full' | 'ci';
  services: number;
  instances: number;
  /** Idle window: CPU, Redis commands and writes with nothing changing. */
  idleSeconds: number;
  /** Quiet time before the idle window, for start-up work (first snapshots, heartbeats) to pass. */
  preIdleSeconds: number;
  noopEvents: number;
  restartSettleSeconds: number;
  /** Steady change rate per registry (changes/s) and how long. */
  steady: Record<string, { rate: number; seconds: number; timeoutSeconds: number }>;
  rollingInstances: number;
  churnSeconds: number;
  churnRate: number;
  coldServices: number;
  throughputRecords: number;
  /** Registries that get the whole phase (idle, no-op, restart, steady, rolling, churn). */
  fullPhase: string[];
  writer: { qps: number; burst: number; concurrency: number };
}

export const PROFILES: Record<'full' | 'ci', Profile> = {
  full: {
    name: 'full',
    services: 1000,
    instances: 10,
    idleSeconds: 90,
    preIdleSeconds: 10,
    noopEvents: 200,
    restartSettleSeconds: 30,
    steady: {
      consul: { rate: 10, seconds: 60, timeoutSeconds: 90 },
      eureka: { rate: 5, seconds: 60, timeoutSeconds: 30 },
      'eureka-cached': { rate: 2, seconds: 60, timeoutSeconds: 75 },
      cloudmap: { rate: 2, seconds: 60, timeoutSeconds: 45 },
    },
    rollingInstances: 100,
    churnSeconds: 180,
    churnRate: 10,
    coldServices: 5000,
    throughputRecords: 5000,
    fullPhase: ['consul', 'eureka', 'cloudmap'],
    writer: { qps: 1000, burst: 2000, concurrency: 32 },
  },
  ci: {
    name: 'ci',
    services: 30,
    instances: 10,
    idleSeconds: 10,
    preIdleSeconds: 3,
    noopEvents: 10,
    restartSettleSeconds: 6,
    steady: {
      consul: { rate: 5, seconds: 6, timeoutSeconds: 20 },
      eureka: { rate: 2, seconds: 6, timeoutSeconds: 20 },
      cloudmap: { rate: 1, seconds: 6, timeoutSeconds: 30 },
    },
    rollingInstances: 20,
    churnSeconds: 10,
    churnRate: 5,
    coldServices: 300,
    throughputRecords: 500,
    fullPhase: ['consul'],
    writer: { qps: 1000, burst: 2000, concurrency: 32 },
  },
};
