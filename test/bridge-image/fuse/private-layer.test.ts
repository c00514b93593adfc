import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeClient } from '../../../bridge-image/protocol/index.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

const fuseAvailable = fs.existsSync('/dev/fuse') && process.getuid?.() === 0;

const sh = (cmd: string, cwd: string) =>
  execFileSync('bash', ['-c', cmd], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const git = (args: string, cwd: string) =>
  sh(`git -c user.email=a@a -c user.name=agent -c core.hooksPath=/dev/null ${args}`, cwd);

let b: BridgeProcess;
let ws: string;
let mnt: string;
let alice: BridgeClient;
let bob: BridgeClient;

const shadowEvents = async (agent: string) =>
  (await b.admin().query({ stream: `shadow:${agent}`, limit: 10_000 })).events;

describe.skipIf(!fuseAvailable)("an agent's private layer (.git and git-ignored paths)", () => {
  beforeAll(async () => {
    const top = tempDir();
    ws = path.join(top, 'ws');
    mnt = path.join(top, 'mnt');
    const w = (rel: string, text: string, mode = 0o644) => {
      fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
      fs.writeFileSync(path.join(ws, rel), text, { mode });
    };
    w('.gitignore', 'node_modules/\ndist/\n*.log\n!keep.log\n/build\n');
    w('src/main.js', 'console.log(1);\n');
    w('src/.gitignore', 'cache/\n');
    w(
      'package.json',
      JSON.stringify({ name: 'p', version: '1.0.0', dependencies: { greet: 'file:vendor/greet' } }) + '\n',
    );
    w(
      'vendor/greet/package.json',
      JSON.stringify({ name: 'greet', version: '1.0.0', bin: { greet: 'cli.js' } }),
    );
    w('vendor/greet/cli.js', '#!/usr/bin/env node\nconsole.log("greet ok");\n', 0o755);
    w('dist/old.js', 'old build\n');
    sh('git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm init', ws);
    b = await startBridge({ workspace: ws, fuseMount: mnt });
    alice = b.agent('alice');
    bob = b.agent('bob');
    await alice.registerAgent({ capabilities: [] });
    await bob.registerAgent({ capabilities: [] });
    for (let i = 0; i < 50 && !fs.existsSync(path.join(mnt, 'shadows/bob/src')); i++)
      await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(async () => {
    await b?.stop();
  });

  it('runs git status, add and commit in a shadow; the commit is in that shadow only', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    const wsHead = git('rev-parse HEAD', ws).trim();
    expect(git('status --porcelain', sa)).toBe('');
    sh('echo "console.log(2);" > src/main.js && echo "new" > src/extra.js', sa);
    expect(git('status --porcelain', sa)).toBe(' M src/main.js\n?? src/extra.js\n');
    git('add -A', sa);
    git('commit -qm "agent change"', sa);
    expect(git('log --format=%s -1', sa).trim()).toBe('agent change');
    expect(git('status --porcelain', sa)).toBe('');
    // The workspace's repository and the other shadow's view of it never changed.
    expect(git('rev-parse HEAD', ws).trim()).toBe(wsHead);
    expect(git('status --porcelain', ws)).toBe('');
    expect(git('rev-parse HEAD', path.join(mnt, 'shadows/bob')).trim()).toBe(wsHead);
    // The changes are the two source files; nothing of .git is an event or a change.
    expect((await alice.changes()).changes.map((c) => c.path)).toEqual(['src/extra.js', 'src/main.js']);
    const paths = (await shadowEvents('alice')).map((e) => (e.data as { path?: string }).path ?? '');
    expect(paths.filter((p) => p.startsWith('.git'))).toEqual([]);
    // The data lives in the bridge's data dir, owner-only.
    expect(fs.statSync(path.join(b.dataDir, 'private')).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(path.join(b.dataDir, 'private/alice/files/.git/index'))).toBe(true);
  });

  it('keeps dist/, node_modules/ and other ignored paths private: no events, no changes', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    const before = (await shadowEvents('alice')).length;
    sh(
      'mkdir -p node_modules/x dist/sub src/cache && echo y > node_modules/x/y.js && echo x > dist/x.js && ' +
        'echo s > dist/sub/s.js && echo c > src/cache/c && echo l > debug.log && echo k > keep.log && ' +
        'mkdir build && echo b > build/b.o',
      sa,
    );
    expect(sh('cat node_modules/x/y.js dist/x.js dist/old.js src/cache/c debug.log build/b.o', sa)).toBe(
      'y\nx\nold build\nc\nl\nb\n',
    );
    expect(sh('ls dist', sa)).toBe('old.js\nsub\nx.js\n');
    expect(sh('ls -a', sa).split('\n')).toEqual(
      expect.arrayContaining(['.git', 'node_modules', 'dist', 'build']),
    );
    // keep.log is re-included by "!keep.log": an ordinary change.
    const events = (await shadowEvents('alice')).slice(before);
    expect(events.map((e) => (e.data as { path?: string }).path)).toEqual(['keep.log']);
    expect((await alice.changes()).changes.map((c) => c.path)).not.toContain('dist/x.js');
    // Deleting a workspace file there is a whiteout in the private layer, not an event.
    sh('rm dist/old.js && mv dist/x.js dist/y.js', sa);
    expect(sh('ls dist', sa)).toBe('sub\ny.js\n');
    expect(fs.readFileSync(path.join(ws, 'dist/old.js'), 'utf8')).toBe('old build\n');
    expect(sh('ls dist', path.join(mnt, 'shadows/bob'))).toBe('old.js\n');
    expect((await shadowEvents('alice')).length).toBe(before + 1);
    // Across the private/tracked line a rename is EXDEV; mv copies instead.
    sh('mv dist/y.js src/y.js', sa);
    expect((await alice.readFile('src/y.js')).toString()).toBe('x\n');
    expect(fs.existsSync(path.join(ws, 'dist/x.js'))).toBe(false);
  });

  it('runs npm install --offline of a file: dependency in a shadow', async () => {
    const sb = path.join(mnt, 'shadows/bob');
    sh('npm install --offline --no-audit --no-fund --ignore-scripts', sb);
    expect(fs.readlinkSync(path.join(sb, 'node_modules/greet'))).toBe('../vendor/greet');
    expect(sh('node_modules/.bin/greet', sb)).toBe('greet ok\n');
    const changed = (await bob.changes()).changes.map((c) => c.path);
    expect(changed.filter((p) => p.startsWith('node_modules'))).toEqual([]);
    expect(fs.existsSync(path.join(ws, 'node_modules'))).toBe(false);
  });

  it("follows the shadow's own .gitignore: an edit there changes what is private", async () => {
    const sb = path.join(mnt, 'shadows/bob');
    sh('echo "*.tmp" >> .gitignore && echo t > a.tmp && echo o > other.txt', sb);
    const paths = (await shadowEvents('bob')).map((e) => (e.data as { path?: string }).path);
    expect(paths).toContain('.gitignore');
    expect(paths).toContain('other.txt');
    expect(paths).not.toContain('a.tmp');
    expect(sh('cat a.tmp', sb)).toBe('t\n');
    // The workspace's .gitignore does not have the rule: alice's a.tmp is an ordinary change.
    sh('echo t > a.tmp', path.join(mnt, 'shadows/alice'));
    expect((await alice.changes()).changes.map((c) => c.path)).toContain('a.tmp');
  });

  it('records a burst of 2,000 tracked files as one event each, with their content', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    const before = (await shadowEvents('alice')).length;
    const N = 2000;
    fs.mkdirSync(path.join(sa, 'gen'));
    for (let i = 0; i < N; i++) fs.writeFileSync(path.join(sa, 'gen', `f${i}.txt`), `file ${i}\n`);
    // Read back at once through the mount, before anything needs to be recorded.
    expect(fs.readFileSync(path.join(sa, 'gen/f1999.txt'), 'utf8')).toBe('file 1999\n');
    expect(fs.readdirSync(path.join(sa, 'gen')).length).toBe(N);
    // The HTTP API sees them all (an HTTP request settles what the mount wrote).
    const listed = (await alice.list('gen')).entries;
    expect(listed.length).toBe(N);
    for (const i of [0, 7, 1234, 1999])
      expect((await alice.readFile(`gen/f${i}.txt`)).toString()).toBe(`file ${i}\n`);
    const events = (await shadowEvents('alice')).slice(before);
    const written = events.filter((e) => e.type === 'shadow.written');
    // One event per file (creating a file records nothing by itself) ...
    expect(written.length).toBe(N);
    expect(new Set(written.map((e) => (e.data as { path: string }).path)).size).toBe(N);
    // How many appends carried them depends on timing (files closed while a record is on its way go
    // together): the workspace bench measures the speed; here only that nothing is lost or doubled.
    const contents = new Map(
      written.map((e) => [(e.data as { path: string }).path, (e.data as { size: number }).size]),
    );
    expect(contents.get('gen/f1999.txt')).toBe('file 1999\n'.length);
  });
});
