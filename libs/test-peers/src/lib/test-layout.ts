// The one test layout of the workspace: unit specs (`*.spec.ts`) beside the code under src/, run by
// the `test` target (jest.config.ts); integration specs (`*.int-spec.ts`, real peers) run by
// `int-test` (jest.int.config.ts); any other suite (`*.<kind>-spec.ts`) by a target of its own with
// jest.<kind>.config.ts. The test command runs `test` and `int-test` of every project, so a spec
// that no target runs, or that the wrong one runs, is a test that silently never runs where it should.
import { matchesGlob, posix } from 'node:path';

export interface JestTarget {
  name: string;
  /** Workspace-relative path of the jest config. */
  jestConfig: string;
  /** The config's testMatch, `<rootDir>` as written. */
  testMatch: string[];
  /** The target's passWithNoTests option. */
  passWithNoTests?: boolean;
}

export interface ProjectLayout {
  name: string;
  /** Workspace-relative root, e.g. libs/kube. */
  root: string;
  jestTargets: JestTarget[];
  /** Workspace-relative paths of every `*.spec.ts` and `*.<kind>-spec.ts` under the root. */
  specFiles: string[];
}

const UNIT = 'test';
const INT = 'int-test';

/** The suite a spec file belongs to: `test`, `int-test`, or the kind of `*.<kind>-spec.ts`. */
export function suiteOf(file: string): string | undefined {
  const m = /\.(?:([a-z0-9]+)-)?spec\.ts$/.exec(file);
  if (!m) return undefined;
  if (!m[1]) return UNIT;
  return m[1] === 'int' ? INT : m[1];
}

const isAppOrLib = (p: ProjectLayout) => /^(apps|libs)\//.test(p.root);

function expectedTarget(p: ProjectLayout, name: string): { jestConfig: string; testMatch?: string[] } {
  if (name === UNIT) return { jestConfig: posix.join(p.root, 'jest.config.ts'), testMatch: isAppOrLib(p) ? ['<rootDir>/src/**/*.spec.ts'] : undefined };
  if (name === INT) return { jestConfig: posix.join(p.root, 'jest.int.config.ts'), testMatch: isAppOrLib(p) ? ['<rootDir>/src/**/*.int-spec.ts'] : undefined };
  return { jestConfig: '' };
}

/** What in one project breaks the layout, each message naming the project; empty when it follows it. */
export function testLayoutDeviations(p: ProjectLayout): string[] {
  const out: string[] = [];
  const say = (msg: string) => out.push(`${p.name} (${p.root}): ${msg}`);
  const runs = (t: JestTarget, file: string) => t.testMatch.some((g) => matchesGlob(file, g.replace('<rootDir>', posix.dirname(t.jestConfig))));

  for (const t of p.jestTargets) {
    const want = expectedTarget(p, t.name);
    if (want.jestConfig && t.jestConfig !== want.jestConfig) say(`target ${t.name} runs ${t.jestConfig}, the layout's is ${want.jestConfig}`);
    if (want.testMatch && JSON.stringify(t.testMatch) !== JSON.stringify(want.testMatch)) say(`target ${t.name} matches ${JSON.stringify(t.testMatch)}, the layout's is ${JSON.stringify(want.testMatch)}`);
    // an empty target fails rather than passing silently; only an app's or lib's unit target may
    // wait, empty, for its first spec, and then it says so
    const empty = !p.specFiles.some((f) => runs(t, f));
    const mayBeEmpty = isAppOrLib(p) && t.name === UNIT;
    if (empty && !(mayBeEmpty && t.passWithNoTests === true)) say(`target ${t.name} runs no spec${mayBeEmpty ? ' (an app or lib without unit specs yet: passWithNoTests true)' : ''}`);
    if (!empty && t.passWithNoTests !== false) say(`target ${t.name} has passWithNoTests ${t.passWithNoTests}: a matching spec lost would pass silently (false)`);
  }
  if (isAppOrLib(p) && !p.jestTargets.some((t) => t.name === UNIT)) say(`no ${UNIT} target`);

  for (const file of p.specFiles) {
    const suite = suiteOf(file) as string;
    const by = p.jestTargets.filter((t) => runs(t, file));
    if (by.length === 0) say(`${file} is run by no target (a ${suite} spec: ${suite === UNIT || suite === INT ? `target ${suite}` : `a target with jest.${suite}.config.ts`})`);
    else if (by.length > 1) say(`${file} is run by ${by.map((t) => t.name).join(' and ')}`);
    else {
      const t = by[0];
      const fits = suite === UNIT || suite === INT ? t.name === suite : t.name !== UNIT && t.name !== INT && posix.basename(t.jestConfig) === `jest.${suite}.config.ts`;
      if (!fits) say(`${file} (a ${suite} spec) is run by target ${t.name} (${t.jestConfig})`);
    }
    if (isAppOrLib(p) && !file.startsWith(`${p.root}/src/`)) say(`${file} is not beside the code under ${p.root}/src`);
  }
  return out;
}
