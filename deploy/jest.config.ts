// Pure chart and image tests: need the built apps and helm (built by the `helm` target), no peers.
export default {
  displayName: 'deploy',
  preset: '../jest.preset.js',
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  coverageDirectory: '../coverage/deploy',
};
