import nx from '@nx/eslint-plugin';

// Registry clients and the Kubernetes client may be imported by exactly one lib each.
const registryClients = ['consul', 'eureka-js-client', '@aws-sdk/client-servicediscovery', '@aws-sdk/credential-providers'];
const kubeClients = ['@kubernetes/client-node'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/node_modules', '**/out-tsc', 'tools/**', 'tmp/**'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?js$'],
          depConstraints: [
            // shared libs: contract and observability; they know no registry and no Kubernetes
            {
              sourceTag: 'scope:shared',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:test'],
              bannedExternalImports: [...registryClients, ...kubeClients],
            },
            // the writer and its libs: never a registry client
            {
              sourceTag: 'scope:writer',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:writer', 'scope:test'],
              bannedExternalImports: registryClients,
            },
            // only the Kubernetes lib talks to the API server
            { sourceTag: 'type:app', bannedExternalImports: kubeClients },
            { sourceTag: 'type:translation', bannedExternalImports: kubeClients },
            // collectors: shared libs, the collector runtime and their own registry lib only
            {
              sourceTag: 'scope:collector',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:collector', 'scope:test'],
              bannedExternalImports: [...registryClients, ...kubeClients],
            },
            {
              sourceTag: 'scope:consul',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:collector', 'scope:consul', 'scope:test'],
              bannedExternalImports: ['eureka-js-client', '@aws-sdk/client-servicediscovery', '@aws-sdk/credential-providers', ...kubeClients],
            },
            {
              sourceTag: 'scope:eureka',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:collector', 'scope:eureka', 'scope:test'],
              bannedExternalImports: ['consul', '@aws-sdk/client-servicediscovery', '@aws-sdk/credential-providers', ...kubeClients],
            },
            {
              sourceTag: 'scope:cloudmap',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:collector', 'scope:cloudmap', 'scope:test'],
              bannedExternalImports: ['consul', 'eureka-js-client', ...kubeClients],
            },
            // the operator CLI (dry-run diff) reads registries and the cluster through the libs
            {
              sourceTag: 'scope:cli',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:writer', 'scope:collector', 'scope:consul', 'scope:eureka', 'scope:cloudmap', 'scope:test'],
            },
            // cross-lib contract specs (e2e/contract): each normalizer's output through the translator, nothing else
            {
              sourceTag: 'scope:contract-test',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:writer', 'scope:consul', 'scope:eureka', 'scope:cloudmap', 'scope:test'],
              bannedExternalImports: [...registryClients, ...kubeClients],
            },
            // apps import registry clients only through their registry lib
            { sourceTag: 'type:app', bannedExternalImports: registryClients },
            // test helpers reach every peer; product code never imports them (rule below)
            { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['scope:shared', 'scope:test'] },
            { sourceTag: 'type:app', notDependOnLibsWithTags: ['type:app'] },
          ],
        },
      ],
    },
  },

  {
    // test helpers are for specs only
    files: ['**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.fault-spec.ts', '**/src/test/**', '**/src/testing/**', 'libs/test-peers/**', 'bench/**', 'e2e/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: '@registry-bridge/test-peers', message: 'test helpers are for specs only' }] }],
    },
  },
];
