const nxPreset = require('@nx/jest/preset').default;

// @kubernetes/client-node 2.x ships ES modules only: ts-jest turns it (and its ESM-only deps)
// into CommonJS for Jest. Node itself loads them natively (require(esm)).
const esmOnly = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose', 'socks-proxy-agent', 'agent-base'];

module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
    '^.+\\.m?js$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs', target: 'es2022' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'mjs', 'js', 'json'],
};
