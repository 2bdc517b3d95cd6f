import { formatValue } from './field-diff';
import { DiffReport, exitCodeOf, SourceRead } from './plan-diff';

export interface DiffMeta {
  installation: string;
  server: string;
  namespaces: string[];
  sources: Array<Pick<SourceRead, 'source' | 'kind' | 'complete' | 'error'> & { services: number }>;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The human-readable diff: one line per object, field changes indented under their object. */
export function renderText(report: DiffReport, meta: DiffMeta): string {
  const out: string[] = [];
  out.push(`registry-bridge diff (dry run, nothing written): installation ${meta.installation}, cluster ${meta.server}, namespaces ${meta.namespaces.join(', ') || '(none)'}`);
  const sources = meta.sources.map((s) => `${s.source} (${s.kind}${s.error ? ', FAILED' : `, ${plural(s.services, 'service')}${s.complete ? '' : ', partial'}`})`);
  out.push(`sources read: ${sources.join(', ') || '(none)'}`);
  const section = (title: string, lines: string[]) => {
    if (!lines.length) return;
    out.push('', `${title}:`, ...lines);
  };
  section(
    `Added (${report.added.length})`,
    report.added.map((a) => `  + ${a.kind} ${a.namespace}/${a.name}  ${a.key}${a.host ? `  host ${a.host}` : ''}`),
  );
  section(
    `Changed (${report.changed.length})`,
    report.changed.flatMap((c) => [`  ~ ${c.kind} ${c.namespace}/${c.name}  ${c.key}`, ...c.fields.map((f) => `      ${f.path}: ${formatValue(f.old)} → ${formatValue(f.new)}`)]),
  );
  section(
    `Deleted (${report.deleted.length})`,
    report.deleted.map((d) => `  - ${d.kind} ${d.namespace}/${d.name}  ${d.key}: ${d.why}`),
  );
  section(
    `Refused (${report.refused.length})`,
    report.refused.map((r) => `  ! ${r.key}  ${r.reason}: ${r.detail}`),
  );
  section('Warnings', report.warnings.map((w) => `  * ${w}`));
  section('Errors', report.errors.map((e) => `  x ${e}`));
  out.push('', `Unchanged: ${plural(report.unchanged.length, 'object')}`);
  out.push(
    `Summary: ${report.added.length} to add, ${report.changed.length} to change, ${report.deleted.length} to delete, ${report.refused.length} refused, ${report.unchanged.length} unchanged${
      report.errors.length ? `; ${plural(report.errors.length, 'error')}: the diff is incomplete` : ''
    }`,
  );
  return `${out.join('\n')}\n`;
}

/** Machine-readable: the whole report plus the exit code, for scripts and CI. */
export function renderJson(report: DiffReport, meta: DiffMeta): string {
  const { unchanged, ...rest } = report;
  return `${JSON.stringify({ ...meta, exitCode: exitCodeOf(report), ...rest, unchanged: unchanged.length, unchangedObjects: unchanged }, null, 2)}\n`;
}
