import type { Health, RegistryKind } from '@registry-bridge/contract';

export type EndpointMode = 'inline' | 'workloadEntry';
export type Location = 'MESH_INTERNAL' | 'MESH_EXTERNAL';

/** Everything the translation needs to know about one source; resolved from the writer's config. */
export interface SourceRules {
  source: string;
  kind: RegistryKind;
  installation: string;
  /** Namespace the objects of this source are written to. */
  namespace: string;
  /** `{service}`, `{scope}`, `{source}`, `{datacenter}` (from record metadata) are substituted. */
  hostTemplate: string;
  /** A host must end with one of these (e.g. `.consul`); empty means no host is allowed. */
  allowedHostSuffixes: string[];
  /** A host under one of these is refused whatever the allow-list says (the Kubernetes cluster domain); `cluster.local` is always denied. */
  deniedHostSuffixes?: string[];
  allowWildcardHosts: boolean;
  endpointMode: EndpointMode;
  location: Location;
  exportTo: string[];
  /** Protocol for ports whose registry says nothing (or something Istio does not know). */
  defaultProtocol: string;
  /** Health states whose endpoints are written. */
  includeHealth: Health[];
  network?: string;
  serviceAccount?: string;
  /**
   * The instances run Istio sidecars: endpoints get `security.istio.io/tlsMode: istio` (mutual TLS).
   * Otherwise an endpoint with a service account gets `disabled`, since Istio would assume `istio`.
   */
  sidecars?: boolean;
  /** Extra labels on every object of this source. */
  labels: Record<string, string>;
}

export const ISTIO_PROTOCOLS = ['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'MYSQL', 'REDIS', 'TCP', 'TLS', 'UDP'] as const;

export const DEFAULT_HOST_TEMPLATES: Record<RegistryKind, string> = {
  consul: '{service}.service.consul',
  eureka: '{service}.eureka',
  cloudmap: '{service}.{scope}',
};

/** Each registry claims only its own names by default; Cloud Map's are its namespaces' names. */
export const DEFAULT_ALLOWED_HOST_SUFFIXES: Record<RegistryKind, string[]> = {
  consul: ['.consul'],
  eureka: ['.eureka'],
  cloudmap: ['.local'],
};

/** Kubernetes' default cluster domain: Service names (`*.svc.cluster.local`) are never claimed. */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** CRD limits of networking.istio.io/v1 (istio.io/api customresourcedefinitions.gen.yaml). */
export const CRD_LIMITS = {
  ports: 256,
  inlineEndpoints: 4096,
  endpointPorts: 128,
  labels: 256,
  hosts: 256,
} as const;
