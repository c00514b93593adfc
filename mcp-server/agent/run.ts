import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BridgeClient, parseKeyMaterial, type Ready } from '../../bridge-image/protocol/index.js';
import { ConfigError } from '../config.js';
import { AGENT_HELP, parseAgentArgs, type AgentArgs } from './args.js';
import { agentKey, tellBridge } from './key.js';
import { planLaunch, type LaunchPlan } from './plan.js';
import { shadowRoot, waitForShadow } from './shadow.js';

export interface AgentIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** lighthouse-mcp's bundle; default: mcp-server.js beside this one. */
  mcpScript?: string;
}

async function bridgeReady(args: AgentArgs, key: Buffer): Promise<Ready> {
  const client = new BridgeClient({
    baseUrl: args.bridgeUrl,
    agentId: args.agentId,
    key,
    timeoutMs: 5000,
    userAgent: 'lighthouse-agent/0.1',
  });
  try {
    return await client.ready();
  } catch (e) {
    throw new ConfigError(
      `no bridge answers at ${args.bridgeUrl} (${(e as Error).message}): start it (\`npm start\` in the project, ` +
        'or "Lighthouse: Start Bridge" in VS Code) or pass --bridge with its address',
    );
  }
}

function mcpScriptPath(io: AgentIo): string {
  const script = io.mcpScript ?? io.env.LIGHTHOUSE_MCP_SCRIPT ?? path.join(__dirname, 'mcp-server.js');
  if (!fs.existsSync(script)) {
    throw new ConfigError(
      `the Lighthouse MCP server is not at ${script}; set LIGHTHOUSE_MCP_SCRIPT to its path`,
    );
  }
  return path.resolve(script);
}

/** A private folder for the agent's config files; removed when the agent ends. */
function privateDir(agentId: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lighthouse-agent-${agentId}-`));
  fs.chmodSync(dir, 0o700);
  return dir;
}

/** Resolves everything `lighthouse agent` needs and writes its config files; runs nothing. */
export async function prepare(args: AgentArgs, io: AgentIo): Promise<LaunchPlan & { configDir: string }> {
  const mcpScript = mcpScriptPath(io);
  const key = agentKey(args.project, args.agentId, args.keyFile);
  if (key.made) io.stderr(`lighthouse: wrote ${key.file} (agent "${args.agentId}", mode 0600)\n`);
  const ready = await bridgeReady(args, parseKeyMaterial(fs.readFileSync(key.file), key.file));
  if (key.master) {
    const why = await tellBridge(args.bridgeUrl, key.master, args.agentId);
    if (why) io.stderr(`lighthouse: could not tell the bridge about "${args.agentId}": ${why}\n`);
  }
  const shadow = args.noShadow
    ? null
    : await waitForShadow(shadowRoot(ready, args.mount), args.agentId, args.waitMs);
  const configDir = privateDir(args.agentId);
  const plan = planLaunch({ args, keyFile: key.file, shadow, node: process.execPath, mcpScript, configDir });
  for (const [file, content] of Object.entries(plan.files)) fs.writeFileSync(file, content, { mode: 0o600 });
  return { ...plan, configDir };
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/**
 * Runs the plan in the user's terminal (stdio inherited) and resolves with its exit code; a child
 * killed by a signal gives 128 + the signal's number, as a shell reports it. Signals sent to us are
 * passed on, except the terminal's own Ctrl-C and Ctrl-\: those already reach the child, which is in
 * the same foreground process group, and a second one would make Claude Code quit.
 */
export function runPlan(
  plan: LaunchPlan,
  env: NodeJS.ProcessEnv,
  stderr: (s: string) => void,
): Promise<number> {
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [k, v] of Object.entries(plan.env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  return new Promise((resolve) => {
    const child = spawn(plan.command, plan.args, { cwd: plan.cwd, env: merged, stdio: 'inherit' });
    const fromTerminal = (sig: NodeJS.Signals) =>
      (sig === 'SIGINT' || sig === 'SIGQUIT') && process.stdin.isTTY;
    const forward = (sig: NodeJS.Signals) => {
      if (!fromTerminal(sig)) child.kill(sig);
    };
    for (const sig of FORWARDED) process.on(sig, forward);
    const done = (code: number) => {
      for (const sig of FORWARDED) process.off(sig, forward);
      resolve(code);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      stderr(
        e.code === 'ENOENT'
          ? `lighthouse: ${plan.command}: command not found (install it, or pass --command)\n`
          : `lighthouse: could not start ${plan.command}: ${e.message}\n`,
      );
      done(e.code === 'ENOENT' ? 127 : 126);
    });
    child.on('exit', (code, signal) => {
      done(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
    });
  });
}

/** `lighthouse agent …`: the exit code to leave with. */
export async function agentCommand(argv: readonly string[], io: AgentIo): Promise<number> {
  const parsed = parseAgentArgs(argv, io.env, io.cwd);
  if (parsed.kind === 'help') {
    io.stdout(AGENT_HELP);
    return 0;
  }
  const { args } = parsed;
  const plan = await prepare(args, io);
  if (args.print) {
    const { files: _files, ...shown } = plan;
    io.stdout(`${JSON.stringify({ ...shown, files: Object.keys(plan.files) }, null, 2)}\n`);
    return 0;
  }
  try {
    return await runPlan(plan, io.env, io.stderr);
  } finally {
    fs.rmSync(plan.configDir, { recursive: true, force: true });
  }
}
