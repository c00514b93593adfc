import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeClient } from '../../../bridge-image/protocol/index.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

let b: BridgeProcess;
let ws: string;
let alice: BridgeClient;
let bob: BridgeClient;
let admin: BridgeClient;
const snapshot = (dir: string) => {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = sha(fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
};
let before: Record<string, string>;

beforeAll(async () => {
  ws = path.join(tempDir(), 'ws');
  fs.mkdirSync(path.join(ws, 'src/lib'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'README.md'), '# project\n');
  fs.writeFileSync(path.join(ws, 'src/index.ts'), 'export const x = 1;\n');
  fs.writeFileSync(path.join(ws, 'src/lib/util.ts'), 'export function u() {}\n');
  before = snapshot(ws);
  b = await startBridge({ workspace: ws });
  alice = b.agent('alice');
  bob = b.agent('bob');
  admin = b.admin();
});
afterAll(async () => {
  await b.stop();
});

describe('shadow files over HTTP', () => {
  it('shows the workspace through the shadow, with read-your-writes and byte ranges', async () => {
    expect((await alice.readFile('README.md')).toString()).toBe('# project\n');
    const w = await alice.writeFile('src/index.ts', 'export const x = 2;\n');
    expect(w.hash).toBe(sha('export const x = 2;\n'));
    expect((await alice.readFile('src/index.ts')).toString()).toBe('export const x = 2;\n');
    expect((await alice.readFile('src/index.ts', { offset: 7, length: 5 })).toString()).toBe('const');
    expect((await bob.readFile('src/index.ts')).toString()).toBe('export const x = 1;\n');
    const st = await alice.stat('src/index.ts');
    expect(st).toMatchObject({ type: 'file', size: 20, source: 'shadow', hash: w.hash });
    expect((await bob.stat('src/index.ts')).hash).toBe(sha('export const x = 1;\n'));
    expect(snapshot(ws)).toEqual(before);
  });

  it('lists directories merged with the overlay, including new directories made implicitly', async () => {
    await alice.writeFile('docs/guide/intro.md', 'hello');
    const root = await alice.list('');
    expect(root.entries.map((e) => `${e.name}:${e.type}`)).toEqual(['README.md:file', 'docs:dir', 'src:dir']);
    expect((await alice.list('docs/guide')).entries.map((e) => e.name)).toEqual(['intro.md']);
    expect((await bob.list('')).entries.map((e) => e.name)).toEqual(['README.md', 'src']);
    await expect(alice.list('README.md')).rejects.toMatchObject({ status: 409, code: 'ENOTDIR' });
    await expect(alice.list('nope')).rejects.toMatchObject({ status: 404, code: 'ENOENT' });
  });

  it('deletes, moves, makes and removes directories, with the errno a file system would give', async () => {
    await alice.deleteFile('src/lib/util.ts');
    await expect(alice.readFile('src/lib/util.ts')).rejects.toMatchObject({ status: 404, code: 'ENOENT' });
    expect((await alice.list('src/lib')).entries).toEqual([]);
    await alice.rmdir('src/lib');
    await expect(alice.stat('src/lib')).rejects.toMatchObject({ code: 'ENOENT' });
    await alice.mkdir('empty');
    expect((await alice.stat('empty')).type).toBe('dir');
    await expect(alice.mkdir('empty')).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(alice.rmdir('src')).rejects.toMatchObject({ status: 409, code: 'ENOTEMPTY' });
    await expect(alice.writeFile('README.md/x', 'y')).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(alice.writeFile('src', 'y')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(alice.deleteFile('src')).rejects.toMatchObject({ code: 'EISDIR' });
    await alice.move('README.md', 'docs/README.md');
    await expect(alice.stat('README.md')).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await alice.readFile('docs/README.md')).toString()).toBe('# project\n');
    const changes = (await alice.changes()).changes;
    const byPath = Object.fromEntries(changes.map((c) => [c.path, c]));
    expect(byPath['src/index.ts']?.status).toBe('modified');
    expect(byPath['src/lib/util.ts']?.status).toBe('deleted');
    expect(byPath['docs/guide/intro.md']?.status).toBe('added');
    expect(byPath['docs/README.md']).toMatchObject({ status: 'moved', movedFrom: 'README.md' });
    expect(byPath['README.md']?.status).toBe('deleted');
    expect(snapshot(ws)).toEqual(before);
  });

  it('flags conflicts: a write based on stale content, a workspace that changed underneath, two shadows on one path', async () => {
    const stale = await bob.writeFile('src/index.ts', 'bob was here\n', { ifMatch: sha('something else') });
    expect(stale.conflict).toBe(true);
    const fresh = await bob.writeFile('notes.txt', 'n', { ifMatch: 'absent' });
    expect(fresh.conflict).toBe(false);
    const aliceView = Object.fromEntries((await alice.changes()).changes.map((c) => [c.path, c]));
    expect(aliceView['src/index.ts']?.alsoChangedBy).toEqual(['bob']);
    const bobView = Object.fromEntries((await bob.changes()).changes.map((c) => [c.path, c]));
    expect(bobView['src/index.ts']).toMatchObject({ conflict: true, alsoChangedBy: ['alice'] });
    // Two shadows making one path different things: a conflict in both, whichever is applied first.
    expect(aliceView['src/index.ts']?.conflict).toBe(true);
    const counts = (await admin.shadowSummary()).agents;
    expect(counts.find((c) => c.agentId === 'alice')?.conflicts).toBe(
      (await alice.changes()).changes.filter((c) => c.conflict).length,
    );
    // the developer edits the file in the workspace: alice's change is now based on old content
    fs.writeFileSync(path.join(ws, 'src/index.ts'), 'export const x = 100;\n');
    const after = Object.fromEntries((await alice.changes()).changes.map((c) => [c.path, c]));
    expect(after['src/index.ts']).toMatchObject({ conflict: true, baseHash: sha('export const x = 1;\n') });
    expect(after['src/index.ts']?.currentBaseHash).toBe(sha('export const x = 100;\n'));
    fs.writeFileSync(path.join(ws, 'src/index.ts'), 'export const x = 1;\n');
  });

  it('keeps each shadow private to its agent, and lets admin read any', async () => {
    await expect(bob.readFile('src/index.ts', { agent: 'alice' })).rejects.toMatchObject({ status: 403 });
    expect((await admin.readFile('src/index.ts', { agent: 'alice' })).toString()).toBe(
      'export const x = 2;\n',
    );
    expect((await admin.changes({ agent: 'bob' })).changes.map((c) => c.path)).toContain('notes.txt');
    await expect(admin.changes()).rejects.toMatchObject({ status: 400 });
  });

  it('applies and discards (admin only), as events, and survives a restart', async () => {
    await expect(alice.applyShadow({ agentId: 'alice', paths: ['src/index.ts'] })).rejects.toMatchObject({
      status: 403,
    });
    const applied = await admin.applyShadow({
      agentId: 'alice',
      paths: ['src/index.ts', 'docs/guide/intro.md'],
    });
    expect(applied.paths).toEqual(['src/index.ts', 'docs/guide/intro.md']);
    await admin.discardShadow({ agentId: 'bob', paths: ['notes.txt'] });
    await expect(admin.discardShadow({ agentId: 'bob', paths: ['never-changed.txt'] })).rejects.toMatchObject(
      {
        status: 404,
      },
    );
    const aliceLeft = (await alice.changes()).changes.map((c) => c.path);
    expect(aliceLeft).not.toContain('src/index.ts');
    expect(aliceLeft).toContain('docs/README.md');
    const events = await admin.query({ type: 'shadow.*', stream: 'shadow:alice' });
    expect(events.events.map((e) => e.type)).toContain('shadow.applied');

    await b.stop();
    b = await startBridge({ workspace: ws, dataDir: b.dataDir, secret: b.secret });
    const again = b.agent('alice');
    expect((await again.changes()).changes.map((c) => c.path)).toEqual(aliceLeft);
    expect((await again.readFile('docs/README.md')).toString()).toBe('# project\n');
    expect(snapshot(ws)).toEqual(before);
  });
});

describe('renames as editors and tools make them', () => {
  it('a rename over an existing file is a modification of that file, with a real diff', async () => {
    const ed = b.agent('editor');
    // sed -i, an editor's atomic save, Claude Code's Edit: write a temporary copy, rename it over.
    await ed.writeFile('src/.index.ts.swp', 'export const x = 42;\n');
    await ed.move('src/.index.ts.swp', 'src/index.ts');
    const changes = (await ed.changes()).changes;
    expect(changes.map((c) => [c.path, c.status, c.movedFrom])).toEqual([['src/index.ts', 'modified', null]]);
    const diff = (await ed.diff()).files.find((f) => f.path === 'src/index.ts')!;
    expect(diff.patch).toContain('-export const x = 1;');
    expect(diff.patch).toContain('+export const x = 42;');
  });

  it('a workspace file renamed over another: the target modified, the source deleted', async () => {
    const mv = b.agent('mover');
    await mv.move('README.md', 'src/index.ts');
    const byPath = Object.fromEntries((await mv.changes()).changes.map((c) => [c.path, c]));
    expect(byPath['src/index.ts']).toMatchObject({ status: 'modified', movedFrom: null });
    expect(byPath['README.md']?.status).toBe('deleted');
  });

  it('a new file renamed to a new name is added, and a moved file moved on keeps its origin', async () => {
    const nf = b.agent('newfiles');
    await nf.writeFile('draft.tmp', 'draft');
    await nf.move('draft.tmp', 'final.txt');
    await nf.move('README.md', 'a.md');
    await nf.move('a.md', 'b.md');
    const byPath = Object.fromEntries((await nf.changes()).changes.map((c) => [c.path, c]));
    expect(byPath['final.txt']).toMatchObject({ status: 'added', movedFrom: null });
    expect(byPath['draft.tmp']).toBeUndefined();
    expect(byPath['b.md']).toMatchObject({ status: 'moved', movedFrom: 'README.md' });
    expect(byPath['a.md']).toBeUndefined();
  });

  it('two shadows making a path the same content do not conflict', async () => {
    const p = b.agent('same-p');
    const q = b.agent('same-q');
    await p.writeFile('agreed.txt', 'same\n');
    await q.writeFile('agreed.txt', 'same\n');
    expect((await p.changes()).changes.find((c) => c.path === 'agreed.txt')).toMatchObject({
      conflict: false,
      alsoChangedBy: ['same-q'],
    });
  });
});

describe('shadow history', () => {
  it('reads a shadow as it stood at any seq', async () => {
    const h = b.agent('historian');
    const v1 = await h.writeFile('h.txt', 'first');
    const v2 = await h.writeFile('h.txt', 'second');
    const del = await h.deleteFile('h.txt');
    expect((await h.readFile('h.txt', { at: v1.seq })).toString()).toBe('first');
    expect((await h.readFile('h.txt', { at: v2.seq })).toString()).toBe('second');
    await expect(h.readFile('h.txt', { at: del.seq })).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(h.readFile('h.txt', { at: v1.seq - 1 })).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await h.stat('h.txt', { at: v1.seq })).size).toBe(5);
    expect((await h.list('', { at: v2.seq })).entries.map((e) => e.name)).toContain('h.txt');
    await expect(h.readFile('h.txt', { at: -1 })).rejects.toMatchObject({ status: 400 });
  });

  it('moves directories (with workspace files in them) as rename(2) would', async () => {
    const carol = b.agent('carol');
    await carol.writeFile('src/lib/extra.ts', 'extra\n');
    await carol.move('src', 'code');
    await expect(carol.stat('src')).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await carol.readFile('code/index.ts')).toString()).toBe('export const x = 1;\n');
    expect((await carol.readFile('code/lib/util.ts')).toString()).toBe('export function u() {}\n');
    expect((await carol.readFile('code/lib/extra.ts')).toString()).toBe('extra\n');
    expect((await carol.list('code')).entries.map((e) => e.name)).toEqual(['index.ts', 'lib']);
    const changes = Object.fromEntries((await carol.changes()).changes.map((c) => [c.path, c]));
    expect(changes['code/index.ts']).toMatchObject({ status: 'moved', movedFrom: 'src/index.ts' });
    expect(changes['src/index.ts']?.status).toBe('deleted');
    // Not into itself, not onto a file or a non-empty directory; onto an empty one, yes.
    await expect(carol.move('code', 'code/lib/inner')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(carol.move('code', 'README.md')).rejects.toMatchObject({ code: 'ENOTDIR' });
    await carol.mkdir('full');
    await carol.writeFile('full/f', 'f');
    await expect(carol.move('code', 'full')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    await carol.mkdir('empty');
    await carol.move('code/lib', 'empty');
    expect((await carol.list('empty')).entries.map((e) => e.name)).toEqual(['extra.ts', 'util.ts']);
    // And back where it was: the workspace's own content, unchanged.
    await carol.move('code', 'src');
    expect((await carol.readFile('src/index.ts')).toString()).toBe('export const x = 1;\n');
    expect(snapshot(ws)).toEqual(before);
  });

  it('hides what the workspace has at a removed path, whether it was a file or a directory there', async () => {
    const dave = b.agent('dave');
    // A workspace file replaced by a directory, which is then removed: the file must not come back.
    await dave.deleteFile('README.md');
    await dave.mkdir('README.md');
    await dave.rmdir('README.md');
    await expect(dave.stat('README.md')).rejects.toMatchObject({ code: 'ENOENT' });
    const changes = Object.fromEntries((await dave.changes()).changes.map((c) => [c.path, c]));
    expect(changes['README.md']?.status).toBe('deleted');
    // A workspace directory replaced by a file, which is then deleted: the directory must not come back.
    await dave.deleteFile('src/lib/util.ts');
    await dave.rmdir('src/lib');
    await dave.writeFile('src/lib', 'now a file');
    await dave.deleteFile('src/lib');
    await expect(dave.stat('src/lib')).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await dave.list('src')).entries.map((e) => e.name)).toEqual(['index.ts']);
    // A directory is not a file change.
    const after = (await dave.changes()).changes.map((c) => c.path);
    expect(after).not.toContain('src/lib');
  });
});
