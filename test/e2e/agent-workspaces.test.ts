/**
 * Issue 18's acceptance test: two real Claude Codes at once, each started by `lighthouse agent` in
 * its shadow of a generated npm project (a bin dependency, tests, a build, git) on a native bridge
 * with its FUSE view, each doing the whole edit-build-test-git loop with Claude Code's own tools.
 * Then what the developer checks: each change list holds exactly the agent's real changes, the
 * shared file conflicts in both shadows, the workspace is byte-for-byte as it was, each agent's
 * commit lives in its own shadow only; and applying alice's changes the way the extension does,
 * after which bob's conflicting change is refused without an explicit overwrite.
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShadowStat } from '../../bridge-image/protocol/index.js';
import { conflictNotice } from '../../extension/model/apply-conflicts.js';
import { finishOnDisk, unlinkReplacedLinks } from '../../extension/model/apply-disk.js';
import { planApply } from '../../extension/model/apply-plan.js';
import { shadowChangesOutput } from '../../mcp-server/tools/shadow-changes.js';
import {
  claudeCodeBin,
  claudeCodeEnv,
  claudeCodeMissing,
  seedHome,
  type StreamEvent,
} from '../helpers/claude-code.js';
import { startNativeBridge, type NativeBridge } from '../helpers/native-bridge.js';
import {
  startScriptedAnthropic,
  type ScriptedAnthropic,
  type ToolResult,
  type Turn,
} from '../helpers/scripted-anthropic.js';
import { tempDir } from '../helpers/temp-dirs.js';

const LIGHTHOUSE_JS = path.resolve(__dirname, '../../dist/lighthouse.js');
const GREETING = "exports.greeting = () => 'hello';\n";
const ADD = 'exports.add = (a, b) => a + b;\n';

/**
 * The project as a developer has it checked out: a local package with a bin (so node_modules/.bin
 * holds a symlink to it), a test script and a build script using node, two shell scripts, sources,
 * a .gitignore for node_modules/ and dist/, installed and committed.
 */
function makeProject(root: string): void {
  const w = (rel: string, text: string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text, { mode });
  };
  const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
  w(
    'package.json',
    json({
      name: 'ws-project',
      version: '1.0.0',
      private: true,
      scripts: { test: 'greet-check && node test/run.js', build: 'node scripts/build.js' },
      dependencies: { greet: 'file:vendor/greet' },
    }),
  );
  w('vendor/greet/package.json', json({ name: 'greet', version: '1.0.0', bin: { 'greet-check': 'cli.js' } }));
  w('vendor/greet/cli.js', '#!/usr/bin/env node\nconsole.log("greet-check ok");\n', 0o755);
  w('.gitignore', 'node_modules/\ndist/\n');
  w('README.md', '# ws-project\n');
  w('src/greet.js', GREETING);
  w('src/math.js', ADD);
  w(
    'test/run.js',
    "const assert = require('assert');\n" +
      "const { greeting } = require('../src/greet.js');\n" +
      "const { add } = require('../src/math.js');\n" +
      'assert.equal(add(2, 3), 5);\n' +
      "assert.equal(typeof greeting(), 'string');\n" +
      'console.log(`tests passed: ${greeting()}`);\n',
  );
  w(
    'scripts/build.js',
    "const fs = require('fs');\n" +
      "fs.mkdirSync('dist', { recursive: true });\n" +
      "const files = fs.readdirSync('src');\n" +
      'for (const f of files) fs.copyFileSync(`src/${f}`, `dist/${f}`);\n' +
      'console.log(`built ${files.length} files into dist/`);\n',
  );
  w('scripts/release.sh', '#!/bin/sh\necho release\n');
  w('scripts/deploy.sh', '#!/bin/sh\necho deploy\n');
  const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { cwd: root, stdio: 'ignore' });
  sh('npm install --offline --no-audit --no-fund');
  sh(
    'git init -q -b main && git add -A && git -c user.email=dev@example.com -c user.name=dev commit -qm init',
  );
}

/** Every entry under `root` (but the bridge's own .lighthouse/): type, mode, content hash or link text. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === '.lighthouse') continue;
      const abs = path.join(root, r);
      const st = fs.lstatSync(abs);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[r] = `link ${fs.readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(r);
      } else
        out[r] = `file ${mode} ${crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex')}`;
    }
  };
  walk('');
  return out;
}

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-c', `safe.directory=${dir}`, ...args], { cwd: dir, encoding: 'utf8' });
const subjects = (dir: string) => git(dir, 'log', '--format=%s').trim().split('\n');

interface AgentPlan {
  id: string;
  /** The new text of src/greet.js's line, different for each agent. */
  greeting: string;
  /** What the agent writes, chmods and links besides the shared file. */
  newFile: string;
  script: string;
  link: { path: string; target: string };
  install: string;
  extraEdit?: { file: string; from: string; to: string };
  /** An Edit of the script after it was made executable (Claude Code's Edit replaces the file). */
  editScript?: { from: string; to: string };
}

const ALICE: AgentPlan = {
  id: 'alice',
  greeting: "'hello, alice'",
  newFile: 'src/farewell.js',
  script: 'scripts/release.sh',
  link: { path: 'src/hello.js', target: 'greet.js' },
  // A clean reinstall: the shadow's node_modules (and its .bin symlink) made anew, privately.
  install: 'rm -rf node_modules && npm install --offline --no-audit --no-fund',
  editScript: { from: 'echo release', to: 'npm test && echo release' },
};
const BOB: AgentPlan = {
  id: 'bob',
  greeting: "'hi from bob'",
  newFile: 'docs/NOTES.md',
  script: 'scripts/deploy.sh',
  link: { path: 'docs/readme.md', target: '../README.md' },
  install: 'npm install --offline --no-audit --no-fund',
  extraEdit: { file: 'src/math.js', from: 'a + b', to: 'Number(a) + Number(b)' },
};

const bash = (command: string) => ({ name: 'Bash', input: { command, description: command.slice(0, 60) } });

/**
 * One agent's scripted session. After its edit of the shared file it waits until the other agent
 * has made its own: a rendezvous that only completes when both sessions are live at once.
 */
function turns(
  p: AgentPlan,
  shadow: string,
  project: string,
  edited: () => void,
  bothEdited: Promise<unknown>,
): Turn[] {
  const abs = (rel: string) => path.join(shadow, rel);
  const script: Turn[] = [
    { toolCalls: [{ name: 'Read', input: { file_path: abs('src/greet.js') } }] },
    {
      toolCalls: [
        {
          name: 'Edit',
          input: { file_path: abs('src/greet.js'), old_string: "'hello'", new_string: p.greeting },
        },
      ],
    },
    async () => {
      edited();
      await bothEdited;
      return {
        toolCalls: [
          { name: 'Write', input: { file_path: abs(p.newFile), content: `// new in ${p.id}'s shadow\n` } },
        ],
      };
    },
  ];
  if (p.extraEdit) {
    const e = p.extraEdit;
    script.push(
      { toolCalls: [{ name: 'Read', input: { file_path: abs(e.file) } }] },
      {
        toolCalls: [
          { name: 'Edit', input: { file_path: abs(e.file), old_string: e.from, new_string: e.to } },
        ],
      },
    );
  }
  script.push(
    { toolCalls: [bash(p.id === 'bob' ? 'npm test' : p.install)] },
    { toolCalls: [bash(p.id === 'bob' ? p.install : 'npm test')] },
    { toolCalls: [bash('npm run build')] },
    { toolCalls: [bash(`chmod +x ${p.script} && ln -s ${p.link.target} ${p.link.path}`)] },
  );
  if (p.editScript) {
    const e = p.editScript;
    script.push(
      { toolCalls: [{ name: 'Read', input: { file_path: abs(p.script) } }] },
      {
        toolCalls: [
          { name: 'Edit', input: { file_path: abs(p.script), old_string: e.from, new_string: e.to } },
        ],
      },
    );
  }
  script.push(
    { toolCalls: [bash('git status --porcelain')] },
    { toolCalls: [bash(`git add -A && git commit -qm "${p.id}: greeting" && git log --oneline`)] },
    { toolCalls: [{ name: 'mcp__lighthouse__shadow_changes', input: { limit: 2 } }] },
    // Straight into the real project, with Write (alice) or a Bash redirection (bob): the hook must block it.
    {
      toolCalls: [
        p.id === 'alice'
          ? { name: 'Write', input: { file_path: path.join(project, 'src', 'hack.js'), content: 'x\n' } }
          : bash(`echo x > ${path.join(project, 'src', 'hack.js')}`),
      ],
    },
    { text: `${p.id} is done.` },
  );
  return script;
}

interface Session {
  plan: AgentPlan;
  shadow: string;
  server: ScriptedAnthropic;
  code: number | string;
  stdout: string;
  stderr: string;
  events: StreamEvent[];
  /** The tool results, by the tool_use's place in the script: [name, result]. */
  results: { name: string; input: Record<string, unknown>; result: ToolResult }[];
}

let b: NativeBridge;
let project: string;
let before: Record<string, string>;
const servers: ScriptedAnthropic[] = [];
beforeAll(async () => {
  project = fs.realpathSync(tempDir('lh-ws-accept-'));
  makeProject(project);
  b = await startNativeBridge(project);
  expect(b.view, b.out()).not.toBeNull();
  before = snapshot(project);
}, 60_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await b?.stop();
});

async function runAgent(p: AgentPlan, edited: () => void, bothEdited: Promise<unknown>): Promise<Session> {
  const shadow = path.join(b.view!, 'shadows', p.id);
  const server = await startScriptedAnthropic(turns(p, shadow, project, edited, bothEdited));
  servers.push(server);
  const home = tempDir(`lh-ws-home-${p.id}-`);
  fs.mkdirSync(path.join(home, 'tmp'));
  seedHome(home, shadow);
  const who = { name: p.id, email: `${p.id}@example.com` };
  const proc = spawn(
    process.execPath,
    [
      ...[LIGHTHOUSE_JS, 'agent', p.id, '--bridge', b.url, '--command', claudeCodeBin(), '--'],
      ...['-p', 'Improve the greeting, build, test and commit.', '--output-format', 'stream-json'],
      ...['--verbose', '--permission-mode', 'dontAsk'],
      ...['--allowedTools', 'Bash,Read,Edit,Write,mcp__lighthouse'],
    ],
    {
      cwd: project,
      env: claudeCodeEnv(home, server.url, {
        GIT_AUTHOR_NAME: who.name,
        GIT_AUTHOR_EMAIL: who.email,
        GIT_COMMITTER_NAME: who.name,
        GIT_COMMITTER_EMAIL: who.email,
        npm_config_cache: path.join(home, '.npm'),
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 150_000);
  const code = await new Promise<number | string>((resolve) =>
    proc.on('close', (c, s) => resolve(c ?? s ?? 'unknown')),
  );
  clearTimeout(timer);
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StreamEvent);
  const calls = server
    .mainRequests()
    .flatMap((r) => r.reply?.toolCalls ?? [])
    .map((c) => ({ name: c.name, input: c.input }));
  const results = server.toolResults().map((result, i) => ({ ...calls[i]!, result }));
  return { plan: p, shadow, server, code, stdout, stderr, events, results };
}

const why = (s: Session) =>
  `${s.plan.id}: exit ${String(s.code)}\nstderr: ${s.stderr.slice(-3000)}\nserver: ${s.server.errors.join('\n')}\n` +
  s.results.map((r) => `${r.name} ${JSON.stringify(r.input)} -> ${r.result.text.slice(0, 400)}`).join('\n');

const bashResult = (s: Session, command: string) =>
  s.results.find((r) => r.name === 'Bash' && r.input.command === command)?.result;

describe('two agents at once, each in its own workspace (issue 18)', () => {
  let sessions: Session[];

  it('is installed', () => {
    expect(claudeCodeMissing()).toBeUndefined();
  });

  it('runs both real Claude Codes through their whole loop at the same time', async () => {
    const edited: Record<string, () => void> = {};
    const bothEdited = Promise.all(
      ['alice', 'bob'].map((id) => new Promise<void>((resolve) => (edited[id] = resolve))),
    );
    sessions = await Promise.all([ALICE, BOB].map((p) => runAgent(p, () => edited[p.id]!(), bothEdited)));
    for (const s of sessions) {
      expect(s.code, why(s)).toBe(0);
      expect(s.server.errors, why(s)).toEqual([]);
      expect(s.server.remaining(), why(s)).toBe(0);
      const init = s.events.find((e) => e.type === 'system' && e.subtype === 'init');
      expect(init?.cwd).toBe(s.shadow);
      expect(init?.mcp_servers).toEqual([{ name: 'lighthouse', status: 'connected' }]);
    }
  }, 170_000);

  it("gives Claude Code its tools' results: the file, the edit, npm test's output, the commit", () => {
    for (const s of sessions) {
      const { id } = s.plan;
      // Every result but the blocked write (the last) is a success.
      const [blocked, ...rest] = [...s.results].reverse();
      for (const r of rest) expect(r.result.isError, `${id} ${r.name}: ${r.result.text}`).toBe(false);
      expect(s.results[0]?.result.text).toContain("exports.greeting = () => 'hello';");
      expect(s.results[1]?.result.text).toMatch(/updated/i);
      // npm test ran the bin through node_modules/.bin and the tests against the agent's own edit.
      const test = bashResult(s, 'npm test');
      expect(test?.text).toContain('greet-check ok');
      expect(test?.text).toContain(`tests passed: ${s.plan.greeting.slice(1, -1)}`);
      // alice's reinstall made node_modules anew; bob's found it complete.
      expect(bashResult(s, s.plan.install)?.text).toMatch(id === 'alice' ? /added 1 package/ : /up to date/);
      // alice's src/ has her new file by then.
      expect(bashResult(s, 'npm run build')?.text).toContain(
        `built ${id === 'alice' ? 3 : 2} files into dist/`,
      );
      // git status in the shadow: the agent's changes, nothing ignored, no .lighthouse/.
      const status = bashResult(s, 'git status --porcelain')?.text ?? '';
      expect(status).toContain('M src/greet.js');
      expect(status).toContain(`M ${s.plan.script}`);
      expect(status).toContain(`?? ${s.plan.newFile.split('/')[0] === 'src' ? s.plan.newFile : 'docs/'}`);
      expect(status).not.toMatch(/node_modules|dist\/|\.lighthouse/);
      const commit = s.results.find((r) => String(r.input.command).startsWith('git add -A'))?.result;
      expect(commit?.text).toMatch(new RegExp(`^[0-9a-f]{7,} ${id}: greeting$`, 'm'));
      // The hook blocked the write into the real project, naming the tool to use instead.
      expect(blocked?.name).toBe(id === 'alice' ? 'Write' : 'Bash');
      expect(blocked?.result.isError).toBe(true);
      expect(blocked?.result.text).toMatch(/native-write-outside-shadow/);
      expect(blocked?.result.text, blocked?.result.text).toContain('mcp__lighthouse__write_file');
      expect(fs.existsSync(path.join(project, 'src', 'hack.js'))).toBe(false);
    }
  });

  it('answers the MCP change list a small page at a time, the shared file in conflict', () => {
    for (const s of sessions) {
      const r = s.results.find((x) => x.name === 'mcp__lighthouse__shadow_changes')!.result;
      // Claude Code appends its own <system-reminder> to some results: the tool's answer is before it.
      const answer = r.text.split('\n\n<system-reminder>')[0]!;
      expect(answer.length).toBeLessThan(4096);
      const page = shadowChangesOutput.parse(JSON.parse(answer));
      expect(page.agentId).toBe(s.plan.id);
      expect(page.shown).toBe(2);
      expect(page.total).toBe(s.plan.extraEdit ? 5 : 4);
      expect(page.nextCursor).not.toBeNull();
      expect(page.conflicts).toBe(1);
    }
  });

  it("lists exactly each agent's real changes: the edits with their diffs, the new file, the mode, the link", async () => {
    const admin = b.admin();
    for (const s of sessions) {
      const { id } = s.plan;
      const other = id === 'alice' ? 'bob' : 'alice';
      const changes = await admin.allChanges({ agent: id });
      const expected: Record<string, string> = {
        'src/greet.js': 'modified',
        [s.plan.newFile]: 'added',
        [s.plan.script]: 'modified',
        [s.plan.link.path]: 'added',
        ...(s.plan.extraEdit ? { [s.plan.extraEdit.file]: 'modified' } : {}),
      };
      expect(Object.fromEntries(changes.map((c) => [c.path, c.status]))).toEqual(expected);
      const greet = changes.find((c) => c.path === 'src/greet.js')!;
      expect(greet.conflict).toBe(true);
      expect(greet.alsoChangedBy).toEqual([other]);
      expect(changes.filter((c) => c.path !== 'src/greet.js').every((c) => !c.conflict)).toBe(true);

      const diff = await admin.diff({ agent: id });
      const patch = (p: string) => diff.files.find((f) => f.path === p)?.patch ?? '';
      expect(patch('src/greet.js')).toContain("-exports.greeting = () => 'hello';");
      expect(patch('src/greet.js')).toContain(`+exports.greeting = () => ${s.plan.greeting};`);
      expect(patch(s.plan.newFile)).toContain(`+// new in ${id}'s shadow`);
      expect(patch(s.plan.script)).toMatch(/old mode 100644\s+new mode 100755/);
      if (s.plan.editScript) expect(patch(s.plan.script)).toContain(`+${s.plan.editScript.to}`);
      if (s.plan.extraEdit)
        expect(patch('src/math.js')).toContain('+exports.add = (a, b) => Number(a) + Number(b);');

      const script = await admin.stat(s.plan.script, { agent: id });
      expect(script.mode & 0o777).toBe(0o755);
      const link = await admin.stat(s.plan.link.path, { agent: id });
      expect(link).toMatchObject({ type: 'symlink', target: s.plan.link.target });
      // Through the FUSE view too, as the agent's tools see it.
      expect(fs.readlinkSync(path.join(s.shadow, s.plan.link.path))).toBe(s.plan.link.target);
      expect(fs.statSync(path.join(s.shadow, s.plan.script)).mode & 0o777).toBe(0o755);
      // What npm and the build made is there for the agent, but private: not a change.
      expect(fs.lstatSync(path.join(s.shadow, 'node_modules/.bin/greet-check')).isSymbolicLink()).toBe(true);
      expect(fs.readFileSync(path.join(s.shadow, 'dist/greet.js'), 'utf8')).toContain(s.plan.greeting);
    }
    for (const s of sessions) {
      // Nor did npm, the build or git make a single event: they went to the private layer.
      const { events } = await admin.query({ stream: `shadow:${s.plan.id}`, limit: 10_000 });
      const named = events.flatMap((e) => {
        const d = e.data as { path?: string; from?: string };
        return [d.path, d.from].filter((p): p is string => typeof p === 'string');
      });
      expect(named.length).toBeGreaterThan(0);
      expect(named.filter((p) => /^(node_modules|dist|\.git)(\/|$)/.test(p))).toEqual([]);
    }
    const summary = await admin.shadowSummary();
    const counts = Object.fromEntries(summary.agents.map((a) => [a.agentId, a]));
    expect(counts.alice).toMatchObject({ changes: 4, conflicts: 1 });
    expect(counts.bob).toMatchObject({ changes: 5, conflicts: 1 });
  });

  it('leaves the workspace byte-for-byte as it was, and each commit in its own shadow only', () => {
    expect(snapshot(project)).toEqual(before);
    const [alice, bob] = sessions as [Session, Session];
    expect(subjects(project)).toEqual(['init']);
    expect(subjects(alice.shadow)).toEqual(['alice: greeting', 'init']);
    expect(subjects(bob.shadow)).toEqual(['bob: greeting', 'init']);
    // Each commit holds the agent's own version of the shared file.
    expect(git(alice.shadow, 'show', 'HEAD:src/greet.js')).toContain(ALICE.greeting);
    expect(git(bob.shadow, 'show', 'HEAD:src/greet.js')).toContain(BOB.greeting);
    expect(git(alice.shadow, 'status', '--porcelain')).toBe('');
  });

  it("applies alice's changes as the extension does; bob's conflicting change is then refused", async () => {
    const admin = b.admin();
    const changes = await admin.allChanges({ agent: 'alice' });
    // What the extension checks first: alice's greet.js conflicts with bob's, so it asks; the
    // developer said Overwrite (alice goes first).
    expect(conflictNotice('alice', changes)?.detail).toBe('src/greet.js (also changed by bob)');
    const stats = new Map<string, ShadowStat>();
    const contents = new Map<string, Buffer>();
    for (const c of changes.filter((x) => x.status !== 'deleted')) {
      const st = await admin.stat(c.path, { agent: 'alice' });
      stats.set(c.path, st);
      if (st.type !== 'symlink') contents.set(c.path, await admin.readFile(c.path, { agent: 'alice' }));
    }
    const steps = planApply(
      changes,
      (p) => contents.get(p),
      (p) => stats.get(p),
    );
    unlinkReplacedLinks(project, steps);
    // The WorkspaceEdit's part, done with fs here: the files' contents.
    for (const s of steps) {
      if (s.kind !== 'write') continue;
      fs.mkdirSync(path.dirname(path.join(project, s.path)), { recursive: true });
      fs.writeFileSync(path.join(project, s.path), s.content);
    }
    finishOnDisk(project, steps);
    await admin.applyShadow({ agentId: 'alice', paths: changes.map((c) => c.path) });

    expect(fs.readFileSync(path.join(project, 'src/greet.js'), 'utf8')).toContain(ALICE.greeting);
    expect(fs.statSync(path.join(project, ALICE.script)).mode & 0o777).toBe(0o755);
    expect(fs.readlinkSync(path.join(project, ALICE.link.path))).toBe(ALICE.link.target);
    expect(await admin.allChanges({ agent: 'alice' })).toEqual([]);
    // The developer's git sees alice's work, ready to commit.
    expect(git(project, 'status', '--porcelain')).toContain('M src/greet.js');

    // Bob's greet.js is now based on a workspace that changed under it: the extension refuses it
    // without an explicit overwrite, naming why; his other changes do not conflict.
    const bobs = await admin.allChanges({ agent: 'bob' });
    expect(bobs.filter((c) => c.conflict).map((c) => c.path)).toEqual(['src/greet.js']);
    const refusal = conflictNotice('bob', bobs);
    expect(refusal?.what).toContain("1 of bob's changes conflict");
    expect(refusal?.detail).toBe('src/greet.js (the workspace changed since the agent read it)');
    expect(
      conflictNotice(
        'bob',
        bobs.filter((c) => !c.conflict),
      ),
    ).toBeUndefined();
    expect(fs.readFileSync(path.join(project, 'src/greet.js'), 'utf8')).toContain(ALICE.greeting);
  });
});
