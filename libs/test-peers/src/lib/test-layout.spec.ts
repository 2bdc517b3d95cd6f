import { globSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JestTarget, ProjectLayout, suiteOf, testLayoutDeviations } from './test-layout';

const lib = (over: Partial<ProjectLayout> = {}): ProjectLayout => ({
  name: 'kube',
  root: 'libs/kube',
  jestTargets: [
    { name: 'test', jestConfig: 'libs/kube/jest.config.ts', testMatch: ['<rootDir>/src/**/*.spec.ts'], passWithNoTests: false },
    { name: 'int-test', jestConfig: 'libs/kube/jest.int.config.ts', testMatch: ['<rootDir>/src/**/*.int-spec.ts'], passWithNoTests: false },
  ],
  specFiles: ['libs/kube/src/lib/apply.spec.ts', 'libs/kube/src/lib/apply.int-spec.ts'],
  ...over,
});

describe('suiteOf', () => {
  it.each([
    ['libs/a/src/x.spec.ts', 'test'],
    ['libs/a/src/x.int-spec.ts', 'int-test'],
    ['e2e/faults/src/x.fault-spec.ts', 'fault'],
    ['e2e/istio/src/x.e2e.int-spec.ts', 'int-test'],
    ['libs/a/src/x.ts', undefined],
    ['libs/a/src/spec.helper.ts', undefined],
  ])('%s is a %s spec', (file, suite) => expect(suiteOf(file)).toBe(suite));
});

describe('testLayoutDeviations', () => {
  it('finds nothing in a lib that follows the layout', () => {
    expect(testLayoutDeviations(lib())).toEqual([]);
  });

  it.each<[string, Partial<ProjectLayout>, string]>([
    ['an int spec with no int-test target', { jestTargets: lib().jestTargets.slice(0, 1) }, 'kube (libs/kube): libs/kube/src/lib/apply.int-spec.ts is run by no target (a int-test spec: target int-test)'],
    [
      'a unit target that also runs the int specs',
      { jestTargets: [{ ...lib().jestTargets[0], testMatch: ['<rootDir>/src/**/*spec.ts'] }, lib().jestTargets[1]] },
      'kube (libs/kube): libs/kube/src/lib/apply.int-spec.ts is run by test and int-test',
    ],
    ['a spec away from the code', { specFiles: ['libs/kube/test/apply.spec.ts'] }, 'kube (libs/kube): libs/kube/test/apply.spec.ts is not beside the code under libs/kube/src'],
    ['an int-test target running no spec', { specFiles: ['libs/kube/src/lib/apply.spec.ts'] }, 'kube (libs/kube): target int-test runs no spec'],
    ['a target whose lost specs would pass silently', { jestTargets: [{ ...lib().jestTargets[0], passWithNoTests: true }, lib().jestTargets[1]] }, 'kube (libs/kube): target test has passWithNoTests true: a matching spec lost would pass silently (false)'],
    [
      'a unit target without specs that does not say so',
      { specFiles: ['libs/kube/src/lib/apply.int-spec.ts'] },
      'kube (libs/kube): target test runs no spec (an app or lib without unit specs yet: passWithNoTests true)',
    ],
    ['no unit target', { jestTargets: lib().jestTargets.slice(1), specFiles: ['libs/kube/src/lib/apply.int-spec.ts'] }, 'kube (libs/kube): no test target'],
    [
      'a unit target with another config',
      { jestTargets: [{ ...lib().jestTargets[0], jestConfig: 'libs/kube/jest.unit.config.ts' }, lib().jestTargets[1]] },
      'kube (libs/kube): target test runs libs/kube/jest.unit.config.ts, the layout\'s is libs/kube/jest.config.ts',
    ],
    [
      'a fault spec run by the unit target',
      { specFiles: ['libs/kube/src/lib/apply.spec.ts', 'libs/kube/src/lib/apply.int-spec.ts', 'libs/kube/src/x.fault-spec.ts'], jestTargets: [{ ...lib().jestTargets[0], testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.fault-spec.ts'] }, lib().jestTargets[1]] },
      'kube (libs/kube): libs/kube/src/x.fault-spec.ts (a fault spec) is run by target test (libs/kube/jest.config.ts)',
    ],
  ])('names %s', (_what, over, message) => {
    expect(testLayoutDeviations(lib(over))).toContain(message);
  });

  it('lets an app without unit specs keep an empty unit target that says so', () => {
    const app = lib({ name: 'collector-x', root: 'apps/collector-x', specFiles: ['apps/collector-x/src/x.int-spec.ts'] });
    app.jestTargets = [
      { name: 'test', jestConfig: 'apps/collector-x/jest.config.ts', testMatch: ['<rootDir>/src/**/*.spec.ts'], passWithNoTests: true },
      { name: 'int-test', jestConfig: 'apps/collector-x/jest.int.config.ts', testMatch: ['<rootDir>/src/**/*.int-spec.ts'], passWithNoTests: false },
    ];
    expect(testLayoutDeviations(app)).toEqual([]);
  });

  it('lets another suite run from a target of its own, outside apps and libs too', () => {
    const faults: ProjectLayout = {
      name: 'e2e-faults',
      root: 'e2e/faults',
      jestTargets: [{ name: 'fault-test', jestConfig: 'e2e/faults/jest.fault.config.ts', testMatch: ['<rootDir>/src/**/*.fault-spec.ts'], passWithNoTests: false }],
      specFiles: ['e2e/faults/src/redis-loss.fault-spec.ts'],
    };
    expect(testLayoutDeviations(faults)).toEqual([]);
    expect(testLayoutDeviations({ ...faults, jestTargets: [{ ...faults.jestTargets[0], jestConfig: 'e2e/faults/jest.config.ts' }] })).toEqual([
      'e2e-faults (e2e/faults): e2e/faults/src/redis-loss.fault-spec.ts (a fault spec) is run by target fault-test (e2e/faults/jest.config.ts)',
    ]);
  });
});

// Every project of this workspace, read from its project.json and its jest configs.
describe('the workspace', () => {
  const WORKSPACE = resolve(__dirname, '../../../..');
  const skip = (p: string) => /(^|\/)(node_modules|dist|tmp|\.nx)(\/|$)/.test(p);

  function projects(): ProjectLayout[] {
    return globSync('**/project.json', { cwd: WORKSPACE, exclude: skip }).map((file) => {
      const root = file.slice(0, -'/project.json'.length);
      const project = JSON.parse(readFileSync(join(WORKSPACE, file), 'utf8')) as {
        name: string;
        targets?: Record<string, { executor?: string; options?: { jestConfig?: string; passWithNoTests?: boolean } }>;
      };
      const jestTargets: JestTarget[] = Object.entries(project.targets ?? {})
        .filter(([, t]) => t.executor === '@nx/jest:jest')
        .map(([name, t]) => {
          const jestConfig = t.options?.jestConfig ?? `${root}/jest.config.ts`;
          // the jest configs are TypeScript modules; ts-jest compiles them here
          const config = require(join(WORKSPACE, jestConfig)) as { default: { testMatch?: string[] } };
          return { name, jestConfig, testMatch: config.default.testMatch ?? [], passWithNoTests: t.options?.passWithNoTests };
        });
      const specFiles = globSync(`${root}/**/*spec.ts`, { cwd: WORKSPACE, exclude: skip }).filter((f) => suiteOf(f));
      return { name: project.name, root, jestTargets, specFiles };
    });
  }

  it('has every app, lib and suite on the one test layout', () => {
    const all = projects();
    expect(all.map((p) => p.name)).toEqual(expect.arrayContaining(['writer', 'test-peers', 'e2e-faults']));
    expect(all.flatMap(testLayoutDeviations)).toEqual([]);
  });
});
