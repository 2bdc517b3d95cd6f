import { Endpoint, ServiceRecord } from '@registry-bridge/contract';
import { sanitizeLabelPart } from './names';
import { CRD_LIMITS, ISTIO_PROTOCOLS, SourceRules } from './source-rules';
import type { Drop } from './translation.types';

const PROTOCOLS = new Set<string>(ISTIO_PROTOCOLS);

export interface PortPlan {
  ports: Array<{ name: string; number: number; protocol: string }>;
  /** registry port name -> SE port name */
  names: Map<string, string>;
  /** SE port names left out because not every instance serves them. */
  unserved: Set<string>;
}

/** A DNS-1123 label (Istio rejects any other port name): `base` cut to leave room for `suffix`. */
function labelWithSuffix(base: string, suffix = ''): string {
  return `${base.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

function portName(name: string, number: number): string {
  return labelWithSuffix(sanitizeLabelPart(name)) || `port-${number}`;
}

/**
 * The ServiceEntry ports of a record: one per number, each with a unique DNS-1123 name and a
 * protocol Istio knows (else the source's default), at most the CRD's limit.
 */
export function planPorts(record: Pick<ServiceRecord, 'ports'>, rules: Pick<SourceRules, 'defaultProtocol'>, drops: Drop[]): PortPlan {
  const ports: PortPlan['ports'] = [];
  const names = new Map<string, string>();
  const seenNumbers = new Set<number>();
  const seenNames = new Set<string>();
  for (const port of record.ports) {
    if (seenNumbers.has(port.number)) {
      drops.push({ reason: 'port-duplicate-number', detail: `port ${port.name}/${port.number}: number already used` });
      // Endpoints may still reference this name; map it to the port that holds the number.
      const holder = ports.find((p) => p.number === port.number);
      if (holder && !names.has(port.name)) names.set(port.name, holder.name);
      continue;
    }
    let name = portName(port.name, port.number);
    if (seenNames.has(name)) {
      drops.push({ reason: 'port-duplicate-name', detail: `port ${port.name}/${port.number}: name "${name}" already used, renamed` });
      const base = name;
      name = labelWithSuffix(base, `-${port.number}`);
      for (let n = 2; seenNames.has(name); n++) name = labelWithSuffix(base, `-${port.number}-${n}`);
    }
    if (ports.length >= CRD_LIMITS.ports) {
      drops.push({ reason: 'port-over-limit', detail: `port ${port.name}/${port.number}: over the ${CRD_LIMITS.ports} port limit` });
      continue;
    }
    let protocol = (port.protocol ?? '').toUpperCase();
    if (protocol && !PROTOCOLS.has(protocol)) {
      drops.push({ reason: 'port-protocol-unknown', detail: `port ${port.name}/${port.number}: protocol "${port.protocol}" unknown to Istio, using ${rules.defaultProtocol}` });
      protocol = '';
    }
    ports.push({ name, number: port.number, protocol: protocol || rules.defaultProtocol });
    names.set(port.name, name);
    seenNumbers.add(port.number);
    seenNames.add(name);
  }
  return { ports, names, unserved: new Set() };
}

/**
 * Istio sends to every endpoint of a ServiceEntry on every one of its ports (an endpoint's `ports`
 * only changes the target number; a port it lacks falls back to the service port), so it cannot
 * say "not on this port". The port most instances serve is kept and instances that lack it are
 * left out; every other port is written only when all remaining instances serve it. Decided over
 * every instance with a usable address, whatever its health, so ports do not flap with health.
 * An endpoint whose `ports` is empty serves every service port. Returns the instances left out.
 */
export function restrictToServedPorts(endpoints: Pick<Endpoint, 'id' | 'ports'>[], plan: PortPlan, drops: Drop[]): Map<string, string> {
  const all = plan.ports.map((p) => p.name);
  const served = endpoints.map((ep) => {
    const names = new Set(Object.keys(ep.ports).flatMap((n) => plan.names.get(n) ?? []));
    return { id: ep.id, names: names.size ? names : new Set(all) };
  });
  const left = new Map<string, string>();
  if (served.length === 0) return left;
  const servers = (name: string, among: typeof served) => among.filter((s) => s.names.has(name)).length;
  const primary = plan.ports.reduce((best, p) => (servers(p.name, served) > servers(best.name, served) ? p : best));
  for (const s of served) {
    if (!s.names.has(primary.name)) left.set(s.id, `endpoint ${s.id}: does not serve port ${primary.name}/${primary.number}, which most instances serve; Istio would send that port's traffic to it`);
  }
  const remaining = served.filter((s) => s.names.has(primary.name));
  plan.ports = plan.ports.filter((p) => {
    const n = servers(p.name, remaining);
    if (n === remaining.length) return true;
    plan.unserved.add(p.name);
    drops.push({ reason: 'port-not-served-by-all', detail: `port ${p.name}/${p.number} is served by ${n} of ${remaining.length} instances; Istio would send its traffic to every instance` });
    return false;
  });
  return left;
}
