// Integration specs: real peers on loopback (bash scripts/peers.sh up).
export default {
  displayName: 'kube:int',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.int-spec.ts'],
};
