import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeClient } from '../../../bridge-image/protocol/index.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

const fuseAvailable = fs.existsSync('/dev/fuse') && process.getuid?.() === 0;
if (!fuseAvailable)
  console.warn('FUSE tests skipped: they need /dev/fuse and root (libfuse2 installed by .ci/run)');

const sh = (cmd: string, cwd: string) => execFileSync('bash', ['-c', cmd], { cwd, encoding: 'utf8' });
const shFails = (cmd: string, cwd: string): string => {
  try {
    execFileSync('bash', ['-c', cmd], { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    return String((e as { stderr: string }).stderr);
  }
  throw new Error(`expected to fail: ${cmd}`);
};

let b: BridgeProcess;
let ws: string;
let mnt: string;
let alice: BridgeClient;

describe.skipIf(!fuseAvailable)('the FUSE mount', () => {
  beforeAll(async () => {
    const top = tempDir();
    ws = path.join(top, 'ws');
    mnt = path.join(top, 'mnt');
    fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'README.md'), '# demo\n');
    fs.writeFileSync(path.join(ws, 'src', 'main.py'), 'print("hi")\n# TODO: more\n');
    sh('git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm init', ws);
    b = await startBridge({ workspace: ws, fuseMount: mnt });
    alice = b.agent('alice');
    await alice.registerAgent({ capabilities: [] });
  });
  afterAll(async () => {
    await b.stop();
  });

  it('reports the mount in /ready and shows the layout', async () => {
    expect((await b.admin().ready()).fuse).toEqual({
      enabled: true,
      mounted: true,
      reason: null,
      mountPoint: path.resolve(mnt),
    });
    expect(fs.readdirSync(mnt).sort()).toEqual(['context', 'current', 'history', 'shadows', 'streams']);
    expect(fs.readdirSync(path.join(mnt, 'shadows'))).toContain('alice');
    expect(sh('cat current/README.md', mnt)).toBe('# demo\n');
    expect(sh('ls shadows/alice/src', mnt)).toBe('main.py\n');
  });

  it('turns echo, cp, mv, rm, mkdir, rmdir and truncate in a shadow into events, visible over HTTP', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    sh('echo "new file" > notes.txt', sa);
    expect((await alice.readFile('notes.txt')).toString()).toBe('new file\n');
    sh('cp README.md README.copy.md && mv README.copy.md docs.md', sa);
    expect((await alice.readFile('docs.md')).toString()).toBe('# demo\n');
    await expect(alice.stat('README.copy.md')).rejects.toMatchObject({ code: 'ENOENT' });
    // A file created and removed before it was recorded leaves no event; one recorded leaves two.
    sh('mkdir -p build/out && echo x > build/out/a.o && rm build/out/a.o && rmdir build/out', sa);
    expect((await alice.list('build')).entries).toEqual([]);
    sh('echo y > build/b.o', sa);
    expect((await alice.readFile('build/b.o')).toString()).toBe('y\n');
    sh('rm build/b.o', sa);
    await expect(alice.stat('build/b.o')).rejects.toMatchObject({ code: 'ENOENT' });
    sh('truncate -s 5 src/main.py', sa);
    expect((await alice.readFile('src/main.py')).toString()).toBe('print');
    sh('printf "more" >> notes.txt', sa);
    expect((await alice.readFile('notes.txt')).toString()).toBe('new file\nmore');
    const types = (await b.admin().query({ stream: 'shadow:alice', limit: 1000 })).events.map((e) => e.type);
    for (const t of [
      'shadow.written',
      'shadow.moved',
      'shadow.deleted',
      'shadow.dir_created',
      'shadow.dir_removed',
    ]) {
      expect(types).toContain(t);
    }
    // the workspace never changes
    expect(fs.readFileSync(path.join(ws, 'src/main.py'), 'utf8')).toBe('print("hi")\n# TODO: more\n');
    expect(fs.existsSync(path.join(ws, 'notes.txt'))).toBe(false);
  });

  it('shows HTTP writes in the mount, and works with grep -r, find, diff -ru and git status', async () => {
    await alice.writeFile('src/util.py', 'def util():\n    pass  # TODO\n');
    expect(sh('cat shadows/alice/src/util.py', mnt)).toContain('def util');
    expect(sh('grep -rn TODO shadows/alice/src | sort', mnt)).toBe(
      'shadows/alice/src/util.py:2:    pass  # TODO\n',
    );
    expect(sh('find shadows/alice -name "*.py" | sort', mnt)).toBe(
      'shadows/alice/src/main.py\nshadows/alice/src/util.py\n',
    );
    const patch = sh('diff -ru --exclude=.git current shadows/alice || true', mnt);
    expect(patch).toContain('Only in shadows/alice: notes.txt');
    expect(patch).toMatch(/-print\("hi"\)/);
    const status = sh('git --no-optional-locks status --porcelain', path.join(mnt, 'shadows/alice'));
    expect(status).toContain(' M src/main.py');
    expect(status).toContain('?? notes.txt');
  });

  it('gives the right errno everywhere', () => {
    expect(shFails('echo x > current/README.md', mnt)).toMatch(/Read-only file system/);
    expect(shFails('cat shadows/alice/nope', mnt)).toMatch(/No such file or directory/);
    expect(shFails('cat shadows/alice/src', mnt)).toMatch(/Is a directory/);
    expect(shFails('rmdir shadows/alice/src', mnt)).toMatch(/Directory not empty/);
    expect(shFails('ls shadows/alice/README.md/x', mnt)).toMatch(/Not a directory/);
    expect(shFails('mkdir shadows/alice/src', mnt)).toMatch(/File exists/);
    expect(shFails('echo x > history/1/alice/x', mnt)).toMatch(/Read-only file system|No such file/);
    expect(shFails('echo x > streams/events.jsonl', mnt)).toMatch(/Read-only file system|Permission denied/);
  });

  it('serves history, context and a growing events.jsonl', async () => {
    const w = await alice.writeFile('hist.txt', 'v1');
    await alice.writeFile('hist.txt', 'v2');
    expect(sh(`cat history/${w.seq}/alice/hist.txt`, mnt)).toBe('v1');
    expect(sh('cat shadows/alice/hist.txt', mnt)).toBe('v2');
    await alice.annotate({ path: 'src/main.py', note: 'check this', lines: { start: 1, end: 1 } });
    const ctx = JSON.parse(sh('cat context/src/main.py.json', mnt)) as { note: string }[];
    expect(ctx.map((a) => a.note)).toEqual(['check this']);
    const lines1 = sh('cat streams/events.jsonl', mnt).trim().split('\n');
    expect(JSON.parse(lines1[0]!).seq).toBe(1);
    expect(JSON.parse(lines1[lines1.length - 1]!).seq).toBe(lines1.length);
    await alice.append({ events: [{ type: 'custom.tail', data: { n: 1 } }] });
    const lines2 = sh('cat streams/events.jsonl', mnt).trim().split('\n');
    expect(lines2.length).toBeGreaterThan(lines1.length);
    expect(lines2.some((l) => l.includes('custom.tail'))).toBe(true);
  });

  it('follows events.jsonl with tail -f', async () => {
    const { spawn } = await import('node:child_process');
    const tail = spawn('tail', ['-n', '0', '-f', path.join(mnt, 'streams/events.jsonl')]);
    let out = '';
    tail.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 500));
    await alice.append({ events: [{ type: 'custom.followed', data: { marker: 'tail-f-works' } }] });
    const deadline = Date.now() + 5000;
    while (!out.includes('tail-f-works') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    tail.kill();
    expect(out).toContain('tail-f-works');
  });

  it('reads through the mount while the bridge is writing', async () => {
    await alice.writeFile('busy/0.txt', 'content 0\n');
    let stop = false;
    const writer = (async () => {
      for (let i = 1; !stop; i++) await alice.writeFile(`busy/${i % 20}.txt`, `content ${i}\n`);
    })();
    const deadline = Date.now() + 1500;
    let reads = 0;
    try {
      while (Date.now() < deadline) {
        const names = fs.readdirSync(path.join(mnt, 'shadows/alice/busy'));
        for (const n of names.slice(0, 5)) {
          expect(fs.readFileSync(path.join(mnt, 'shadows/alice/busy', n), 'utf8')).toMatch(/^content \d+\n$/);
          reads++;
        }
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      stop = true;
      await writer;
    }
    expect(reads).toBeGreaterThan(10);
  });

  it('caches, yet shows an HTTP write at once: stat, content, new and deleted names', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    await alice.writeFile('cached.txt', 'one\n');
    // Read twice, so that the kernel holds the name, the attributes and the pages.
    for (let i = 0; i < 2; i++) expect(fs.readFileSync(path.join(sa, 'cached.txt'), 'utf8')).toBe('one\n');
    expect(fs.statSync(path.join(sa, 'cached.txt')).size).toBe(4);
    await alice.writeFile('cached.txt', 'three\n');
    expect(fs.statSync(path.join(sa, 'cached.txt')).size).toBe(6);
    expect(fs.readFileSync(path.join(sa, 'cached.txt'), 'utf8')).toBe('three\n');
    await alice.deleteFile('cached.txt');
    expect(fs.existsSync(path.join(sa, 'cached.txt'))).toBe(false);
    expect(fs.readdirSync(sa)).not.toContain('cached.txt');
    await alice.writeFile('cached.txt', 'back\n');
    expect(fs.readFileSync(path.join(sa, 'cached.txt'), 'utf8')).toBe('back\n');
    // Through the mount, then over HTTP, then through the mount again.
    fs.writeFileSync(path.join(sa, 'cached.txt'), 'via mount\n');
    expect((await alice.readFile('cached.txt')).toString()).toBe('via mount\n');
    await alice.writeFile('cached.txt', 'via http\n');
    expect(fs.readFileSync(path.join(sa, 'cached.txt'), 'utf8')).toBe('via http\n');
  });

  it('shows edits of the workspace on disk in current/ and the shadows (inotify)', async () => {
    fs.writeFileSync(path.join(ws, 'edited.txt'), 'before\n');
    const inCurrent = path.join(mnt, 'current/edited.txt');
    const inShadow = path.join(mnt, 'shadows/alice/edited.txt');
    const waitFor = async (file: string, want: string | null) => {
      const deadline = Date.now() + 3000;
      const read = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null);
      while (read() !== want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return read();
    };
    expect(await waitFor(inCurrent, 'before\n')).toBe('before\n');
    expect(await waitFor(inShadow, 'before\n')).toBe('before\n');
    fs.writeFileSync(path.join(ws, 'edited.txt'), 'after, longer\n');
    expect(await waitFor(inCurrent, 'after, longer\n')).toBe('after, longer\n');
    expect(await waitFor(inShadow, 'after, longer\n')).toBe('after, longer\n');
    expect(fs.statSync(inCurrent).size).toBe(14);
    fs.rmSync(path.join(ws, 'edited.txt'));
    expect(await waitFor(inCurrent, null)).toBe(null);
  });

  it('streams a file of several chunks: whole, and at an offset', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 777);
    for (let i = 0; i + 4 <= data.length; i += 4) data.writeUInt32LE(i, i);
    await alice.writeFile('chunks.bin', data);
    const file = path.join(mnt, 'shadows/alice/chunks.bin');
    expect(fs.statSync(file).size).toBe(data.length);
    expect(fs.readFileSync(file).equals(data)).toBe(true);
    const fd = fs.openSync(file, 'r');
    const part = Buffer.alloc(5000);
    const n = fs.readSync(fd, part, 0, part.length, 2 * 1024 * 1024 - 2000);
    fs.closeSync(fd);
    expect(n).toBe(5000);
    expect(part.equals(data.subarray(2 * 1024 * 1024 - 2000, 2 * 1024 * 1024 + 3000))).toBe(true);
  });

  it('refuses an append to a read-only part at the first write (EROFS)', () => {
    expect(shFails('echo x >> current/README.md', mnt)).toMatch(/Read-only file system/);
    expect(fs.readFileSync(path.join(ws, 'README.md'), 'utf8')).toBe('# demo\n');
  });
});
