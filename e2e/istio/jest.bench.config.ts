// Measurements (bounded in time; numbers go to docs/istio-proof.md), not run by int-test.
export default {
  displayName: 'e2e-istio:bench',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.bench-spec.ts'],
};
