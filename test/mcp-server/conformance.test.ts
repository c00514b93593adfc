import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, tempDir, type BridgeProcess } from '../helpers/bridge-process.js';
import { agentArgs, startMcpHttp, type McpHttpProcess } from './mcp-process.js';

/**
 * @modelcontextprotocol/conformance runs every server scenario it has against `lighthouse-mcp --http`
 * in front of a real bridge, and each scenario must end as docs/mcp-conformance.md says: the
 * document the README points to cannot drift from what the suite finds. The suite needs Node >= 22
 * (its dependencies do); test/e2e/setup.sh provides Node 24 for the end-to-end tests, so it is used
 * here too.
 */
const ROOT = path.resolve(__dirname, '../..');
const SETUP = path.join(ROOT, 'test/e2e/setup.sh');
const CLI = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const CONFORMANCE_DOC = path.join(ROOT, 'docs/mcp-conformance.md');
const MIN_NODE_MAJOR = 22;

/** A Node >= 22 from test/e2e/setup.sh's cache, or why there is none. Synchronous, for `describe.skipIf`. */
function findNode(): { node: string } | { why: string } {
  if (!fs.existsSync(SETUP)) return { why: `${path.relative(ROOT, SETUP)} is missing` };
  let cache: string;
  try {
    // Quick when cached; the first run downloads Node (and the e2e tools) and takes minutes.
    const out = execFileSync('bash', [SETUP], { timeout: 15 * 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    cache = out.toString().trim().split('\n').pop() ?? '';
  } catch (e) {
    const said = (e as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop();
    return { why: `bash test/e2e/setup.sh failed (${said || (e as Error).message})` };
  }
  const candidates = fs.existsSync(cache)
    ? fs
        .readdirSync(cache)
        .map((d) => /^node-(\d+)\.\d+\.\d+$/.exec(d))
        .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= MIN_NODE_MAJOR)
        .map((m) => path.join(cache, m[0], 'bin/node'))
        .filter((bin) => fs.existsSync(bin))
    : [];
  if (candidates.length === 0)
    return { why: `test/e2e/setup.sh left no Node >= ${MIN_NODE_MAJOR} in "${cache}"` };
  return { node: candidates[0]! };
}

const found = findNode();
const node = 'node' in found ? found.node : undefined;
if ('why' in found) console.warn(`MCP conformance test SKIPPED: ${found.why}`);

type Outcome = 'pass' | 'fail';

/** Scenario -> outcome from the table in docs/mcp-conformance.md: rows like "| `ping` | pass | ... |". */
function documentedOutcomes(markdown: string): Map<string, Outcome> {
  const rows = new Map<string, Outcome>();
  // Cells may be padded: Prettier aligns the table's columns.
  for (const m of markdown.matchAll(/^\|\s*`([a-z0-9-]+)`\s*\|\s*(pass|fail)\s*\|/gm)) {
    rows.set(m[1]!, m[2] as Outcome);
  }
  // A table the pattern no longer reads would otherwise look like "every scenario is undocumented".
  if (rows.size === 0) throw new Error('docs/mcp-conformance.md has no scenario table rows');
  return rows;
}

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

/** Scenario -> outcome from the suite's result folders (server-<scenario>-<timestamp>/checks.json). */
function measuredOutcomes(outDir: string): { outcomes: Map<string, Outcome>; why: Map<string, string> } {
  const outcomes = new Map<string, Outcome>();
  const why = new Map<string, string>();
  for (const dir of fs.readdirSync(outDir)) {
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(dir);
    if (!m) continue;
    const checks = JSON.parse(fs.readFileSync(path.join(outDir, dir, 'checks.json'), 'utf8')) as Check[];
    const failed = checks.filter((c) => c.status === 'FAILURE');
    // A scenario passes when at least one check succeeds and none fails (warnings are advice).
    const pass = failed.length === 0 && checks.some((c) => c.status === 'SUCCESS');
    outcomes.set(m[1]!, pass ? 'pass' : 'fail');
    if (!pass) why.set(m[1]!, failed.map((c) => `${c.id}: ${c.errorMessage ?? ''}`).join('; '));
  }
  return { outcomes, why };
}

function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} took over ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe.skipIf(node === undefined)('@modelcontextprotocol/conformance against lighthouse-mcp --http', () => {
  let bridge: BridgeProcess;
  let mcp: McpHttpProcess;

  beforeAll(async () => {
    bridge = await startBridge();
    mcp = await startMcpHttp(agentArgs(bridge, 'conformance'));
  });
  afterAll(async () => {
    await mcp?.stop();
    await bridge?.stop();
  });

  it('every server scenario ends as docs/mcp-conformance.md says', async () => {
    const outDir = tempDir('lh-conformance-');
    const { output } = await run(
      node!,
      [CLI, 'server', '--url', mcp.url, '--suite', 'all', '--output-dir', outDir],
      180_000,
    );
    const { outcomes, why } = measuredOutcomes(outDir);
    expect(outcomes.size, output).toBeGreaterThan(0);
    const documented = documentedOutcomes(fs.readFileSync(CONFORMANCE_DOC, 'utf8'));
    // Sorted objects, so that a difference shows as a readable diff of scenario names.
    const sorted = (m: Map<string, Outcome>) =>
      Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
    expect(sorted(outcomes), `failures: ${JSON.stringify(Object.fromEntries(why), null, 2)}`).toEqual(
      sorted(documented),
    );
    // The suite talked to the server without breaking it: no crash, no bridge session trouble.
    expect(mcp.stderr()).not.toMatch(/HTTP request failed|unexpected tool failure|session revoked/);
  }, 240_000);
});
