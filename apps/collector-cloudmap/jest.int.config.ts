// Integration specs: real peers on loopback (bash scripts/peers.sh up).
export default {
  displayName: 'collector-cloudmap:int',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.int-spec.ts'],
  testTimeout: 120000,
};
