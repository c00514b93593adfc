import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BridgeClient, BridgeError, type Isolation } from '../bridge-image/protocol/index.js';
import { loadConfig } from './config.js';

/**
 * `lighthouse-mcp hook pre-tool-use | post-tool-use`: Claude Code's hooks. The pre hook asks the
 * bridge and answers as Claude Code reads it: exit 0 allows, exit 2 with the reason on stderr blocks,
 * and an "escalate" becomes permissionDecision "ask" so the developer decides in Claude Code.
 */

// What Claude Code sends on stdin (fields it adds later are ignored).
const HookInput = z.object({
  tool_name: z.string(),
  tool_input: z.unknown().default({}),
  cwd: z.string().optional(),
  tool_response: z.unknown().optional(),
});

export const HOOK_HELP = `lighthouse-mcp hook pre-tool-use|post-tool-use [--agent ID --key-file PATH --bridge URL]

Claude Code hooks. Reads the hook's JSON on stdin.
  pre-tool-use   asks the bridge to validate the tool call: exit 0 allows, exit 2 blocks (reason on
                 stderr). An escalation waits up to LIGHTHOUSE_HOOK_REVIEW_WAIT_MS (20000) for an
                 expert's or the developer's answer, then asks in Claude Code (permissionDecision "ask").
  post-tool-use  records what the tool did (for file edits: the path and a SHA-256 of the file).

Native writes are confined to the agent's shadow: a write, move or delete in the project
(CLAUDE_PROJECT_DIR, else the hook's cwd, and LIGHTHOUSE_PROJECT_DIR) outside the shadow
(LIGHTHOUSE_SHADOW_DIR, else the bridge's FUSE mount when this machine sees it) is blocked, naming the
Lighthouse tool that makes it in the shadow instead. LIGHTHOUSE_ISOLATION=off turns this off.

When the bridge cannot be reached, LIGHTHOUSE_HOOK_FAIL decides: "closed" (default) blocks the tool
call, "open" allows it; either way the hook says which it did. Options and environment are those of
lighthouse-mcp (LIGHTHOUSE_AGENT_ID, LIGHTHOUSE_KEY_FILE, LIGHTHOUSE_BRIDGE_URL); the timeout
defaults to 5000 ms here.
`;

export interface HookResult {
  code: number;
  stdout?: string;
  stderr?: string;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** How long pre-tool-use waits for an escalation's answer before asking the developer here. */
function reviewWait(env: NodeJS.ProcessEnv): number {
  const n = Number(env.LIGHTHOUSE_HOOK_REVIEW_WAIT_MS ?? 20_000);
  return Number.isFinite(n) ? Math.max(0, Math.min(n, 55_000)) : 20_000;
}

function failMode(env: NodeJS.ProcessEnv): 'open' | 'closed' {
  return /^open$/i.test(env.LIGHTHOUSE_HOOK_FAIL ?? '') ? 'open' : 'closed';
}

export async function runHook(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  stdin: NodeJS.ReadableStream,
): Promise<HookResult> {
  const [kind, ...rest] = argv;
  if (kind === undefined || kind === '--help' || kind === '-h') return { code: 0, stdout: HOOK_HELP };
  if (kind !== 'pre-tool-use' && kind !== 'post-tool-use') {
    return {
      code: 2,
      stderr: `lighthouse-mcp hook: unknown hook "${kind}"; use pre-tool-use or post-tool-use\n`,
    };
  }
  const fail = failMode(env);
  const unable = (why: string): HookResult => {
    if (kind === 'post-tool-use')
      return { code: 0, stderr: `lighthouse: could not record the tool call: ${why}\n` };
    return fail === 'open'
      ? { code: 0, stderr: `lighthouse: ${why}; allowing the tool call (LIGHTHOUSE_HOOK_FAIL=open)\n` }
      : {
          code: 2,
          stderr: `lighthouse: ${why}; blocking the tool call (fail-closed; set LIGHTHOUSE_HOOK_FAIL=open to allow when the bridge is down)\n`,
        };
  };
  let input: z.infer<typeof HookInput>;
  try {
    input = HookInput.parse(JSON.parse(await readStdin(stdin)));
  } catch (e) {
    return unable(
      `the hook input on stdin is not Claude Code's hook JSON (${(e as Error).message.slice(0, 200)})`,
    );
  }
  let client: BridgeClient;
  let loadedAgent = '';
  try {
    const loaded = loadConfig(rest, { LIGHTHOUSE_TIMEOUT_MS: '5000', ...env });
    if (loaded.kind === 'help') return { code: 0, stdout: HOOK_HELP };
    const c = loaded.config;
    loadedAgent = c.agentId;
    client = new BridgeClient({
      baseUrl: c.bridgeUrl,
      agentId: c.agentId,
      key: c.key,
      role: c.role,
      timeoutMs: c.timeoutMs,
      userAgent: 'lighthouse-hook/0.1',
    });
  } catch (e) {
    return unable((e as Error).message);
  }
  try {
    if (kind === 'pre-tool-use') {
      const isolation = await isolationFor(client, loadedAgent, input.cwd, env);
      const r = await client.validate({
        tool: input.tool_name,
        input: input.tool_input,
        ...(input.cwd ? { cwd: input.cwd } : {}),
        ...(isolation ? { isolation } : {}),
      });
      if (r.decision === 'approved') return { code: 0 };
      const reason = `${r.reason}${r.rule ? ` (rule ${r.rule})` : ''}`;
      if (r.decision === 'blocked')
        return { code: 2, stderr: `Lighthouse blocked this ${input.tool_name} call: ${reason}\n` };
      // Escalated: give an expert (or the developer in VS Code) a moment to answer before asking here.
      const waitMs = reviewWait(env);
      if (r.reviewId && waitMs > 0) {
        const review = await client.review(r.reviewId, waitMs);
        const by = review.answeredBy ?? 'the policy default';
        if (review.decision === 'approved') {
          return { code: 0, stderr: `Lighthouse: approved by ${by}: ${review.answerReason}\n` };
        }
        if (review.decision === 'blocked') {
          return {
            code: 2,
            stderr: `Lighthouse blocked this ${input.tool_name} call (review by ${by}): ${review.answerReason}\n`,
          };
        }
      }
      const ask = {
        hookSpecificOutput: {
          hookEventName: 'PreToolUse',
          permissionDecision: 'ask',
          permissionDecisionReason: `Lighthouse asks for a human decision: ${reason}`,
        },
      };
      return { code: 0, stdout: JSON.stringify(ask) + '\n' };
    }
    const filePath = editedPath(input.tool_input);
    await client.recordExecuted({
      tool: input.tool_name,
      input: input.tool_input,
      ...(filePath ? { path: filePath, ...hashOf(filePath, input.cwd) } : {}),
      ...(input.cwd ? { cwd: input.cwd } : {}),
    });
    return { code: 0 };
  } catch (e) {
    const why = e instanceof BridgeError ? e.message : `unexpected failure: ${(e as Error).message}`;
    return unable(why);
  } finally {
    await client.close().catch(() => undefined);
  }
}

const realOrResolved = (p: string): string => {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/**
 * Where this agent's native tool calls may change the project (see Isolation): its shadow, from
 * LIGHTHOUSE_SHADOW_DIR or the bridge's mount when this machine sees it, and the project around it
 * (Claude Code's CLAUDE_PROJECT_DIR, else the hook's cwd, and LIGHTHOUSE_PROJECT_DIR), and the rest of
 * the FUSE view when it is mounted here (another agent's shadow is not this one's to write). Without a
 * shadow here (a container without a host-visible mount, macOS) every change to the project must
 * go through the Lighthouse tools. LIGHTHOUSE_ISOLATION=off leaves native writes unconfined.
 */
async function isolationFor(
  client: BridgeClient,
  agentId: string,
  cwd: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<Isolation | undefined> {
  if (/^(off|0|false|no)$/i.test(env.LIGHTHOUSE_ISOLATION ?? '')) return undefined;
  const mountPoint = (await client.ready().catch(() => undefined))?.fuse.mountPoint ?? undefined;
  // The view is mounted on this machine: the other agents' shadows in it are theirs, not this one's.
  const view = mountPoint && fs.existsSync(path.join(mountPoint, 'shadows')) ? mountPoint : undefined;
  let shadow: string | null = env.LIGHTHOUSE_SHADOW_DIR ? realOrResolved(env.LIGHTHOUSE_SHADOW_DIR) : null;
  if (!shadow && view) {
    const mine = path.join(view, 'shadows', agentId);
    if (fs.existsSync(mine)) shadow = realOrResolved(mine);
  }
  const roots = [env.CLAUDE_PROJECT_DIR || cwd, env.LIGHTHOUSE_PROJECT_DIR, view].filter(
    (r): r is string => !!r && path.isAbsolute(r),
  );
  const protect = [...new Set(roots.map(realOrResolved))];
  return { shadow, protect };
}

function editedPath(input: unknown): string | undefined {
  if (input && typeof input === 'object') {
    const p =
      (input as { file_path?: unknown; notebook_path?: unknown }).file_path ??
      (input as { notebook_path?: unknown }).notebook_path;
    if (typeof p === 'string') return p;
  }
  return undefined;
}

function hashOf(file: string, cwd: string | undefined): { contentHash?: string } {
  try {
    const data = fs.readFileSync(path.resolve(cwd ?? process.cwd(), file));
    return { contentHash: createHash('sha256').update(data).digest('hex') };
  } catch {
    return {};
  }
}
