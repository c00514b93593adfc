import { ConfigError } from './config.js';
import { agentCommand } from './agent/run.js';
import { NoShadowError } from './agent/shadow.js';

/**
 * `lighthouse`: the developer's command line. Plain Node (no native modules), so it runs on any
 * Node >= 20 beside the MCP server's bundle.
 */
const HELP = `lighthouse: command line of Lighthouse.

Usage:
  lighthouse agent <id> [options] [-- args]   start a coding agent (default: claude) in its shadow,
                                              with Lighthouse's MCP server and hooks wired
  lighthouse agent --help                     the options
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd !== 'agent') throw new ConfigError(`unknown command "${cmd}" (see lighthouse --help)`);
  return agentCommand(rest, {
    env: process.env,
    cwd: process.cwd(),
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof ConfigError || e instanceof NoShadowError) {
      process.stderr.write(`lighthouse agent: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`lighthouse: failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
