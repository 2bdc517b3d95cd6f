import { SourceRules } from './source-rules';

/** Rules of a Consul source for specs, with any field overridden. */
export const testRules = (over: Partial<SourceRules> = {}): SourceRules => ({
  source: 'consul-dc1',
  kind: 'consul',
  installation: 'default',
  namespace: 'mesh',
  hostTemplate: '{service}.service.consul',
  allowedHostSuffixes: ['.consul'],
  allowWildcardHosts: false,
  endpointMode: 'inline',
  location: 'MESH_INTERNAL',
  exportTo: ['*'],
  defaultProtocol: 'TCP',
  includeHealth: ['healthy'],
  labels: {},
  ...over,
});
