import nx from '@nx/eslint-plugin';

// The one list of registries: each one's Nx scope tag (`scope:<name>`, carried by its registry lib
// and its collector app) and its client packages. Adding a registry is one entry here; the
// constraints below are made from it. Registry clients and the Kubernetes client may each be
// imported by exactly one lib.
const registries = {
  consul: ['consul'],
  eureka: ['eureka-js-client'],
  cloudmap: ['@aws-sdk/client-servicediscovery', '@aws-sdk/credential-providers'],
};
const registryClients = Object.values(registries).flat();
const registryScopes = Object.keys(registries).map((name) => `scope:${name}`);
const kubeClients = ['@kubernetes/client-node'];

/** A registry's app and lib: shared libs (the kit among them), the collector runtime, the config lib and their own registry only (the lib is narrowed below). */
const registryConstraint = (name) => ({
  sourceTag: `scope:${name}`,
  onlyDependOnLibsWithTags: ['scope:shared', 'scope:collector', 'scope:config', `scope:${name}`, 'scope:test'],
  bannedExternalImports: [...Object.entries(registries).flatMap(([other, clients]) => (other === name ? [] : clients)), ...kubeClients],
});

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
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:writer', 'scope:config', 'scope:test'],
              bannedExternalImports: registryClients,
            },
            // the config lib: every app's config schema, from the shared vocabulary (app-config), the registries'
            // source schemas and translation's validators; it talks to nothing
            {
              sourceTag: 'scope:config',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:writer', ...registryScopes, 'scope:test'],
              bannedExternalImports: [...registryClients, ...kubeClients],
            },
            // the pure translation lib never depends on the config lib (the config lib uses its validators)
            { sourceTag: 'type:translation', notDependOnLibsWithTags: ['scope:config'] },
            // only the Kubernetes lib talks to the API server
            { sourceTag: 'type:app', bannedExternalImports: kubeClients },
            { sourceTag: 'type:translation', bannedExternalImports: kubeClients },
            // the collector runtime: shared libs (the kit among them) only
            {
              sourceTag: 'scope:collector',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:collector', 'scope:test'],
              bannedExternalImports: [...registryClients, ...kubeClients],
            },
            ...Object.keys(registries).map(registryConstraint),
            // a registry lib: shared libs and the kit only (never the collector runtime, the config lib or its app)
            { sourceTag: 'type:registry', onlyDependOnLibsWithTags: ['scope:shared', 'scope:test'] },
            // the operator CLI (dry-run diff) reads registries through their adapters and the cluster through the libs
            {
              sourceTag: 'scope:cli',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:writer', 'scope:collector', 'scope:config', ...registryScopes, 'scope:test'],
            },
            // cross-lib contract specs (e2e/contract): each normalizer's output through the translator, nothing else
            {
              sourceTag: 'scope:contract-test',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:writer', 'scope:config', ...registryScopes, 'scope:test'],
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
