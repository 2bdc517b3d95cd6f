import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

/** Short stable hash used in object names and no-op detection. */
export function shortHash(input: string, length = 8): string {
  return createHash('sha256').update(input).digest('hex').slice(0, length);
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

export function isDns1123Subdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every(isDns1123Label);
}

/** Lower-cases and replaces anything outside [a-z0-9-] by `-`, collapsing runs and trimming. */
export function sanitizeLabelPart(s: string): string {
  return s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Deterministic, DNS-1123-label object name for a service key: readable parts, then a hash of
 * the exact key, so two keys never share a name even when sanitizing or truncating merges them.
 */
export function objectName(parts: string[], key: string, maxLength = 63): string {
  const hash = shortHash(key);
  const base = parts.map(sanitizeLabelPart).filter(Boolean).join('-');
  const room = maxLength - hash.length - 1;
  const trimmed = base.slice(0, room).replace(/-+$/g, '');
  return trimmed ? `${trimmed}-${hash}` : `rb-${hash}`;
}

export type AddressKind = 'ipv4' | 'ipv6' | 'hostname' | 'invalid';

export function classifyAddress(address: string): AddressKind {
  const ip = isIP(address);
  if (ip === 4) return 'ipv4';
  // A zone id (fe80::1%eth0) only means something on the registry's own host.
  if (ip === 6) return address.includes('%') ? 'invalid' : 'ipv6';
  const host = address.endsWith('.') ? address.slice(0, -1) : address;
  // Host names must have a letter somewhere so that "300.1.1.1" is not taken for a name.
  if (isDns1123Subdomain(host.toLowerCase()) && /[a-z]/i.test(host)) return 'hostname';
  return 'invalid';
}

// Addresses that mean "this host" to whoever connects: Envoy would connect to the caller's own pod.
const LOCAL_ADDRESSES = new BlockList();
LOCAL_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4'); // loopback
LOCAL_ADDRESSES.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network", 0.0.0.0 included
LOCAL_ADDRESSES.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local (and cloud metadata services)
LOCAL_ADDRESSES.addAddress('::1', 'ipv6');
LOCAL_ADDRESSES.addAddress('::', 'ipv6');
LOCAL_ADDRESSES.addSubnet('fe80::', 10, 'ipv6'); // link-local

// Loopback names of the usual /etc/hosts, which Envoy's resolver reads too.
const HOSTS_FILE_LOOPBACK_NAMES = new Set(['localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);

/**
 * Why an address must not be an endpoint: loopback, unspecified and link-local IPs (IPv4-mapped
 * ones too) and `localhost` names (RFC 6761). Undefined for an ordinary address.
 */
export function localAddressKind(address: string): 'loopback-or-unspecified' | 'link-local' | 'localhost' | undefined {
  const ip = isIP(address);
  if (ip !== 0) {
    if (!LOCAL_ADDRESSES.check(address, ip === 4 ? 'ipv4' : 'ipv6')) return undefined;
    const lower = address.toLowerCase();
    return lower.startsWith('169.254.') || /^fe[89ab]/.test(lower) || /^::ffff:169\.254\./.test(lower) ? 'link-local' : 'loopback-or-unspecified';
  }
  const host = address.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || HOSTS_FILE_LOOPBACK_NAMES.has(host) ? 'localhost' : undefined;
}

// Kubernetes label syntax: optional DNS-subdomain prefix + "/" + name of <= 63 chars.
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

export function isValidLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return false;
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}

export function isValidLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && LABEL_NAME.test(value));
}
