/**
 * A shadow as a real POSIX workspace, through a real FUSE mount and real tools: symlinks shown and
 * made as symlinks (npm's node_modules/.bin), chmod kept as an event, times set with touch kept,
 * and `echo new > f` recorded as one version, never an empty one first.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeClient } from '../../../bridge-image/protocol/index.js';
import { finishOnDisk, unlinkReplacedLinks } from '../../../extension/model/apply-disk.js';
import { planApply } from '../../../extension/model/apply-plan.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

const fuseAvailable = fs.existsSync('/dev/fuse') && process.getuid?.() === 0;

/** npm without the network, its cache and logs outside the mount. */
const npmEnv = (home: string) => ({
  ...process.env,
  HOME: home,
  npm_config_cache: path.join(home, '.npm'),
  npm_config_offline: 'true',
  npm_config_update_notifier: 'false',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
});
let home: string;
const sh = (cmd: string, cwd: string) =>
  execFileSync('bash', ['-c', cmd], { cwd, encoding: 'utf8', env: npmEnv(home) });

let b: BridgeProcess;
let ws: string;
let mnt: string;
let sa: string;
let alice: BridgeClient;

interface Logged {
  type: string;
  data: { path: string; hash: string; size: number; mode: number; link?: string };
}

/** alice's shadow events for `p`, once the writes made through the mount are recorded. */
async function eventsFor(p: string): Promise<Logged[]> {
  await alice.changes(); // an HTTP read: the writes gathered by the mount are recorded first
  const all = (await b.admin().query({ stream: 'shadow:alice', limit: 1000 })).events as unknown as Logged[];
  return all.filter((e) => e.data.path === p);
}

describe.skipIf(!fuseAvailable)('a shadow as a POSIX workspace', () => {
  beforeAll(async () => {
    const top = tempDir();
    home = path.join(top, 'home');
    fs.mkdirSync(home);
    ws = path.join(top, 'ws');
    mnt = path.join(top, 'mnt');
    fs.mkdirSync(path.join(ws, 'node_modules/.bin'), { recursive: true });
    fs.mkdirSync(path.join(ws, 'node_modules/mypkg'));
    fs.writeFileSync(
      path.join(ws, 'package.json'),
      JSON.stringify({ name: 'demo', version: '1.0.0', scripts: { test: 'mycli tested' } }, null, 2),
    );
    fs.writeFileSync(
      path.join(ws, 'node_modules/mypkg/package.json'),
      JSON.stringify({ name: 'mypkg', version: '1.0.0', bin: { mycli: 'cli.js' } }),
    );
    fs.writeFileSync(
      path.join(ws, 'node_modules/mypkg/cli.js'),
      '#!/usr/bin/env node\nconsole.log("mycli says " + process.argv.slice(2).join(" "));\n',
      { mode: 0o755 },
    );
    fs.symlinkSync('../mypkg/cli.js', path.join(ws, 'node_modules/.bin/mycli'));
    fs.writeFileSync(path.join(ws, 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o644 });
    fs.writeFileSync(path.join(ws, 'f.txt'), 'old\n');
    fs.writeFileSync(path.join(ws, 'g.txt'), 'gone\n');
    fs.writeFileSync(path.join(ws, 'h.txt'), 'a line\n');
    fs.writeFileSync(path.join(ws, 'README.md'), '# demo\n');
    fs.mkdirSync(path.join(top, 'outside'));
    fs.writeFileSync(path.join(top, 'outside', 'secret.txt'), 'SECRET');
    fs.symlinkSync('../outside/secret.txt', path.join(ws, 'escape'));
    sh('git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm init', ws);
    b = await startBridge({ workspace: ws, fuseMount: mnt });
    alice = b.agent('alice');
    await alice.registerAgent({ capabilities: [] });
    sa = path.join(mnt, 'shadows/alice');
  });
  afterAll(async () => {
    await b?.stop();
  });

  it('shows workspace symlinks as symlinks in current/ and the shadow, and runs npm test and npx through them', () => {
    for (const dir of ['current', 'shadows/alice']) {
      const link = path.join(mnt, dir, 'node_modules/.bin/mycli');
      expect(fs.lstatSync(link).isSymbolicLink(), dir).toBe(true);
      expect(fs.readlinkSync(link), dir).toBe('../mypkg/cli.js');
      expect(sh('ls -l node_modules/.bin', path.join(mnt, dir))).toContain('mycli -> ../mypkg/cli.js');
    }
    expect(sh('npm test 2>&1', sa)).toContain('mycli says tested');
    expect(sh('npx --no-install mycli from npx', sa)).toBe('mycli says from npx\n');
    // Nothing changed by running them.
    expect(sh('git --no-optional-locks status --porcelain', sa)).toBe('');
  });

  it('never reads through a link leading outside the workspace, yet shows its text', async () => {
    expect(fs.readlinkSync(path.join(sa, 'escape'))).toBe('../outside/secret.txt');
    // Followed by the kernel from the mount, the text leads to mnt/shadows/outside: nothing there.
    expect(() => fs.readFileSync(path.join(sa, 'escape'), 'utf8')).toThrow(/ENOENT|EACCES/);
    expect(() => fs.readFileSync(path.join(mnt, 'current/escape'), 'utf8')).toThrow(/ENOENT|EACCES/);
    // The bridge does not follow it either.
    await expect(alice.readFile('escape')).rejects.toMatchObject({ status: 403 });
    expect(await alice.stat('escape')).toMatchObject({ type: 'symlink', target: '../outside/secret.txt' });
  });

  it('makes, reads, moves and removes symlinks with ln -s, readlink, mv and rm; lists and diffs them; Apply makes them', async () => {
    sh('ln -s mypkg/cli.js node_modules/tool && ln -s ../mypkg/cli.js node_modules/.bin/other', sa);
    expect(sh('readlink node_modules/tool', sa)).toBe('mypkg/cli.js\n');
    expect(sh('node_modules/tool through-a-new-link', sa)).toBe('mycli says through-a-new-link\n');
    sh('mv node_modules/.bin/other node_modules/.bin/mycli2', sa);
    expect(fs.readlinkSync(path.join(sa, 'node_modules/.bin/mycli2'))).toBe('../mypkg/cli.js');
    expect(fs.existsSync(path.join(sa, 'node_modules/.bin/other'))).toBe(false);
    // Retarget the workspace's own link (ln -sf replaces it), remove another.
    sh('ln -sf ./../mypkg/cli.js node_modules/.bin/mycli && rm escape', sa);
    expect(fs.readlinkSync(path.join(sa, 'node_modules/.bin/mycli'))).toBe('./../mypkg/cli.js');
    expect(fs.existsSync(path.join(ws, 'node_modules/tool'))).toBe(false); // the workspace never changes

    const { changes } = await alice.changes();
    const byPath = new Map(changes.map((c) => [c.path, c.status]));
    expect(Object.fromEntries(byPath)).toEqual({
      escape: 'deleted',
      'node_modules/.bin/mycli': 'modified',
      'node_modules/.bin/mycli2': 'added',
      'node_modules/tool': 'added',
    });
    const diff = (await alice.diff()).files;
    const retarget = diff.find((f) => f.path === 'node_modules/.bin/mycli')!.patch!;
    expect(retarget).toContain('-../mypkg/cli.js');
    expect(retarget).toContain('+./../mypkg/cli.js');
    expect(diff.find((f) => f.path === 'node_modules/tool')!.patch).toMatch(
      /^new file mode 120000\n[\s\S]*\+mypkg\/cli\.js/,
    );
    // git in the shadow sees the same.
    const status = sh('git --no-optional-locks status --porcelain', sa);
    expect(status).toContain(' M node_modules/.bin/mycli');
    expect(status).toContain(' D escape');

    // Apply, as the extension does it, to a copy of the workspace.
    const copy = path.join(tempDir(), 'ws');
    fs.cpSync(ws, copy, { recursive: true, verbatimSymlinks: true });
    const stats = new Map(
      await Promise.all(
        changes
          .filter((c) => c.status !== 'deleted')
          .map(async (c) => [c.path, await alice.stat(c.path)] as const),
      ),
    );
    const steps = planApply(
      changes,
      () => undefined,
      (p) => stats.get(p),
    );
    unlinkReplacedLinks(copy, steps);
    for (const s of steps) if (s.kind === 'delete') fs.rmSync(path.join(copy, s.path), { force: true });
    finishOnDisk(copy, steps);
    expect(fs.readlinkSync(path.join(copy, 'node_modules/tool'))).toBe('mypkg/cli.js');
    expect(fs.readlinkSync(path.join(copy, 'node_modules/.bin/mycli'))).toBe('./../mypkg/cli.js');
    expect(fs.readlinkSync(path.join(copy, 'node_modules/.bin/mycli2'))).toBe('../mypkg/cli.js');
    expect(fs.existsSync(path.join(copy, 'node_modules/.bin/other'))).toBe(false);
    expect(() => fs.lstatSync(path.join(copy, 'escape'))).toThrow(/ENOENT/);
    await b.admin().discardShadow({ agentId: 'alice', paths: changes.map((c) => c.path) });
  });

  it('keeps chmod +x as an event of the mode alone, shows it in stat and the diff, and Apply sets it', async () => {
    const before = (await eventsFor('run.sh')).length;
    sh('chmod +x run.sh', sa);
    expect(sh('stat -c %a run.sh && ./run.sh', sa)).toBe('755\nrun\n');
    expect(sh('stat -c %a run.sh', path.join(mnt, 'current'))).toBe('444\n'); // the workspace's, read-only
    const written = (await eventsFor('run.sh')).slice(before);
    expect(written.map((e) => [e.type, e.data.mode])).toEqual([['shadow.written', 0o755]]);
    // The same content: the workspace file's, stored once by hash.
    expect(written[0]!.data.hash).toBe((await alice.changes()).changes[0]!.baseHash);
    // chmod to the mode it has already records nothing.
    sh('chmod 755 run.sh', sa);
    expect((await eventsFor('run.sh')).length).toBe(before + 1);
    expect((await alice.stat('run.sh')).mode & 0o777).toBe(0o755);
    const patch = (await alice.diff()).files.find((f) => f.path === 'run.sh')!.patch!;
    expect(patch.startsWith('old mode 100644\nnew mode 100755\n')).toBe(true);
    expect(sh('git --no-optional-locks diff run.sh', sa)).toContain('new mode 100755');

    const { changes } = await alice.changes();
    const copy = path.join(tempDir(), 'ws');
    fs.cpSync(ws, copy, { recursive: true, verbatimSymlinks: true });
    const st = await alice.stat('run.sh');
    const content = await alice.readFile('run.sh');
    const steps = planApply(
      changes,
      () => content,
      () => st,
    );
    finishOnDisk(copy, steps);
    expect(fs.statSync(path.join(copy, 'run.sh')).mode & 0o777).toBe(0o755);
    await b.admin().discardShadow({ agentId: 'alice', paths: ['run.sh'] });
  });

  it('keeps the time touch -d sets, without an event, until the file is written again', async () => {
    const before = (await b.admin().query({ stream: 'shadow:alice', limit: 1000 })).events.length;
    sh("touch -d '2001-02-03 04:05:06 UTC' README.md", sa);
    expect(sh('stat -c %Y README.md', sa)).toBe('981173106\n');
    expect(sh('ls -l --time-style=+%Y README.md', sa)).toContain(' 2001 README.md');
    expect((await b.admin().query({ stream: 'shadow:alice', limit: 1000 })).events.length).toBe(before);
    // make's view of it: older than a file written now.
    sh('echo built > out.txt', sa);
    expect(sh('[ out.txt -nt README.md ] && echo newer', sa)).toBe('newer\n');
    // Written again: a file's time is its last write.
    sh('echo more >> README.md', sa);
    await alice.readFile('README.md');
    expect(Number(sh('stat -c %Y README.md', sa))).toBeGreaterThan(981173106 + 3600);
    await b.admin().discardShadow({ agentId: 'alice', paths: ['README.md', 'out.txt'] });
  });

  it('records echo new > f, truncate-then-append and sed -i as one version each, never an empty one', async () => {
    sh('echo new > f.txt', sa);
    sh('truncate -s0 g.txt; echo x >> g.txt', sa);
    sh('sed -i s/a/b/ h.txt', sa);
    const f = await eventsFor('f.txt');
    expect(f.map((e) => [e.type, e.data.size])).toEqual([['shadow.written', 4]]);
    expect((await alice.readFile('f.txt')).toString()).toBe('new\n');
    const g = await eventsFor('g.txt');
    expect(g.map((e) => [e.type, e.data.size])).toEqual([['shadow.written', 2]]);
    // sed writes a temporary file and renames it over h.txt: h.txt has one version, a modification.
    const h = await eventsFor('h.txt');
    expect(h.map((e) => [e.type, e.data.size])).toEqual([['shadow.moved', 7]]);
    expect((await alice.readFile('h.txt')).toString()).toBe('b line\n');
    const statuses = Object.fromEntries((await alice.changes()).changes.map((c) => [c.path, c.status]));
    expect(statuses).toEqual({ 'f.txt': 'modified', 'g.txt': 'modified', 'h.txt': 'modified' });
  });

  it('keeps links, modes and times set with touch across a restart of the bridge', async () => {
    sh('ln -s mypkg/cli.js node_modules/kept && chmod +x run.sh', sa);
    sh("touch -d '2003-04-05 06:07:08 UTC' README.md", sa);
    await alice.changes();
    await b.stop();
    b = await startBridge({ workspace: ws, fuseMount: mnt, dataDir: b.dataDir, secret: b.secret });
    alice = b.agent('alice');
    // The daemon's own reader (the mount) and the bridge's (HTTP) both rebuilt them.
    expect(fs.readlinkSync(path.join(sa, 'node_modules/kept'))).toBe('mypkg/cli.js');
    expect(sh('stat -c %a run.sh', sa)).toBe('755\n');
    expect(sh('stat -c %Y README.md', sa)).toBe('1049522828\n');
    expect(await alice.stat('node_modules/kept')).toMatchObject({ type: 'symlink', target: 'mypkg/cli.js' });
    expect((await alice.stat('run.sh')).mode & 0o777).toBe(0o755);
  });
});
