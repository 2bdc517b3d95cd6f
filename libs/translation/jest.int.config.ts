// Integration specs: real peers on loopback (bash scripts/peers.sh up).
export default {
  displayName: 'translation:int',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.int-spec.ts'],
};
