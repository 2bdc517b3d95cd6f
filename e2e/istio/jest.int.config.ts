// End-to-end specs against the real peers and istiod (bash scripts/peers.sh up; bash scripts/peers/istiod.sh up).
export default {
  displayName: 'e2e-istio:int',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.int-spec.ts'],
};
