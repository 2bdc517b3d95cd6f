// Unit specs across the record contract: each registry normalizer's real output through the translator.
export default {
  displayName: 'e2e-contract',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
