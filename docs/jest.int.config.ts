// The docs' local examples started as the built apps against the real peers (bash scripts/peers.sh up).
export default {
  displayName: 'docs:int',
  preset: '../jest.preset.js',
  testMatch: ['<rootDir>/tools/**/*.int-spec.ts'],
};
