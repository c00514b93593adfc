import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ConfigError, loadConfig } from './config.js';
import { logLine } from './log.js';
import { createServer } from './server.js';
import { runHook } from './hook.js';
import { serveHttp } from './http.js';

// Enough for close() to end the bridge session (its own request gives up after 3 s).
const SHUTDOWN_GRACE_MS = 5000;

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'hook') {
    const r = await runHook(argv.slice(1), process.env, process.stdin);
    if (r.stdout) process.stdout.write(r.stdout);
    if (r.stderr) process.stderr.write(r.stderr);
    process.exitCode = r.code;
    return;
  }
  const loaded = loadConfig(argv, process.env);
  if (loaded.kind === 'help') {
    process.stdout.write(loaded.text);
    return;
  }
  const { config } = loaded;
  for (const w of config.warnings) logLine(`warning: ${w}`);
  const who = `agent "${config.agentId}" (${config.role}) for the bridge at ${config.bridgeUrl}`;

  // Set once the transport is up; a signal before that has nothing to close but the process.
  let close: () => Promise<void> = async () => undefined;
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    logLine(`stopping (${why})`);
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
    close().then(
      () => process.exit(0),
      (e: unknown) => {
        logLine(`shutdown failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  if (config.httpPort !== undefined) {
    const serving = await serveHttp(config, config.httpPort);
    close = serving.close;
    logLine(`serving ${who}`);
    // A line of its own, so that whoever started us (a script, a test) can find the URL.
    logLine(`listening on ${serving.url}`);
    return;
  }
  const stdio = createServer(config);
  close = stdio.close;
  // The client ends us by closing stdin (the MCP stdio convention). Over HTTP stdin means nothing:
  // a server started in the background often has it closed from the start.
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('close', () => stop('stdin closed'));
  // A client that went away leaves a broken pipe on stdout; there is no one left to serve.
  process.stdout.on('error', () => stop('stdout closed'));
  logLine(`serving ${who}`);
  await stdio.server.connect(new StdioServerTransport());
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof ConfigError) {
    logLine(e.message);
    process.exit(2);
  }
  logLine(`failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
