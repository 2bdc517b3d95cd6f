// The deployment suite: images built by scripts/images.sh, run with runc, pushed to the local
// registry. Not an `int-test` target: `nx run-many -t int-test` does not pick it up (issue 18).
export default {
  displayName: 'e2e-deploy:cluster',
  preset: '../../jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.cluster-spec.ts'],
};
