// registry-bridge CLI: `registry-bridge diff` (dry run). A plain Node program: it reads, prints and exits.
import { ConfigError } from '@registry-bridge/app-config';
import { parseArgs, USAGE, UsageError } from './app/cli-args';
import { exitCodeOf } from './app/plan-diff';
import { renderJson, renderText } from './app/render-diff';
import { runDiff } from './app/run-diff';

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`registry-bridge: ${err.message}\n\n${USAGE}\n`);
    return 1;
  }
  if (args.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const verbose = args.verbose;
  try {
    const { report, meta } = await runDiff(args, (source, message) => {
      if (verbose) process.stderr.write(`[${source}] ${message}\n`);
    });
    // Wait for the write: process.exit right after would cut a long diff going into a pipe.
    const text = args.output === 'json' ? renderJson(report, meta) : renderText(report, meta);
    await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
    return exitCodeOf(report);
  } catch (err) {
    // Config errors name the key and file; anything else (cluster unreachable, forbidden) its message.
    const message = err instanceof ConfigError ? err.message : `error: ${(err as Error).message}`;
    process.stderr.write(`registry-bridge diff: ${message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  // Open sockets (long polls being torn down, keep-alive agents) must not hold the exit.
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`registry-bridge: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
