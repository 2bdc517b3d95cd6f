// Fault suite: the built apps as processes against the real peers (bash scripts/peers.sh up;
// the Redis engines and security specs also need `bash scripts/peers.sh up redis-cluster redis-sentinel redis-tls eureka-tls`).
export default {
  displayName: 'e2e-faults',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.fault-spec.ts'],
  // a spec waits out leases, grace periods and outages on a shared 2-core machine
  testTimeout: 240000,
  // forceExit is set in project.json (a CLI option, not a config key; add --forceExit when running
  // jest directly): kept-alive client sockets must not hold the run open after the last spec
};
