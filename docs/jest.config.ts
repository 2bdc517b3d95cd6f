export default {
  displayName: 'docs',
  preset: '../jest.preset.js',
  testMatch: ['<rootDir>/tools/**/*.spec.ts'],
};
