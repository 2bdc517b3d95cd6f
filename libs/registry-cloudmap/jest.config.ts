export default {
  displayName: 'registry-cloudmap',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/registry-cloudmap',
};
