export default {
  displayName: 'collector-cloudmap',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/apps/collector-cloudmap',
};
