import { parseArgs, UsageError } from './cli-args';

describe('parseArgs', () => {
  it('parses a full diff command', () => {
    expect(
      parseArgs(['diff', '--writer-config', 'w.yaml', '--collector-config', 'consul=c.yaml', '--collector-config=eureka=e.yaml', '--kubeconfig', 'k', '--context=ctx', '--output', 'json', '--timeout', '5', '-v']),
    ).toEqual({
      command: 'diff',
      writerConfig: 'w.yaml',
      collectorConfigs: [
        { kind: 'consul', file: 'c.yaml' },
        { kind: 'eureka', file: 'e.yaml' },
      ],
      kubeconfig: 'k',
      context: 'ctx',
      output: 'json',
      timeoutSeconds: 5,
      verbose: true,
    });
  });

  it.each([[[]], [['help']], [['--help']], [['diff', '-h']]])('%p is help', (argv) => {
    expect(parseArgs(argv)).toEqual({ command: 'help' });
  });

  it.each([
    [['apply'], /unknown command "apply"/],
    [['diff', '--collector-config', 'consul=c.yaml'], /--writer-config is required/],
    [['diff', '--writer-config', 'w.yaml'], /at least one --collector-config/],
    [['diff', '--writer-config', 'w.yaml', '--collector-config', 'zookeeper=z.yaml'], /KIND one of consul, eureka, cloudmap/],
    [['diff', '--writer-config', 'w.yaml', '--collector-config', 'c.yaml'], /KIND=FILE/],
    [['diff', '--writer-config', '--collector-config', 'consul=c.yaml'], /--writer-config needs a value/],
    [['diff', '--writer-config', 'w', '--collector-config', 'consul=c', '--output', 'yaml'], /text or json/],
    [['diff', '--writer-config', 'w', '--collector-config', 'consul=c', '--timeout', '0'], /positive number/],
    [['diff', '--writer-config', 'w', '--collector-config', 'consul=c', '--dry'], /unknown option "--dry"/],
  ])('%p is a usage error', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});
