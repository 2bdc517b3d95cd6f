// Chart against the real API server and Redis (bash scripts/peers.sh up).
export default {
  displayName: 'deploy:int',
  preset: '../jest.preset.js',
  testMatch: ['<rootDir>/test/**/*.int-spec.ts'],
  testTimeout: 180000,
};
