/**
 * Applying an agent's shadow changes to the workspace: which files are text (edited in the editor)
 * or binary (written whole), and the steps, which must leave the workspace as the agent sees it.
 * The last part takes the changes from a real bridge and applies the plan to a real directory the
 * way the Apply command does (a move deletes its source, then writes its target; steps in order).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShadowChange } from '../../../bridge-image/protocol/index.js';
import { isBinary } from '../../../bridge-image/src/shadow/unified-diff.js';
import { finishOnDisk, unlinkReplacedLinks } from '../../../extension/model/apply-disk.js';
import { isText, planApply, type ApplyStep } from '../../../extension/model/apply-plan.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

const change = (
  p: string,
  status: ShadowChange['status'],
  movedFrom: string | null = null,
): ShadowChange => ({
  path: p,
  status,
  hash: status === 'deleted' ? null : 'h',
  baseHash: null,
  currentBaseHash: null,
  conflict: false,
  alsoChangedBy: [],
  movedFrom,
  seq: 1,
});

describe('isText', () => {
  const samples: [string, Buffer, boolean][] = [
    ['empty', Buffer.alloc(0), true],
    ['ASCII', Buffer.from('export const x = 1;\n'), true],
    ['UTF-8 with accents and emoji', Buffer.from('héllo ✓ 🚀\n'), true],
    ['a UTF-8 BOM', Buffer.from('\ufeffname,value\n'), true],
    ['a NUL byte', Buffer.from('abc\0def'), false],
    ['Latin-1 é (not UTF-8)', Buffer.from([0x63, 0x61, 0x66, 0xe9]), false],
    ['a PNG header', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), false],
    ['a UTF-8 character cut in half', Buffer.from('✓').subarray(0, 2), false],
    ['a NUL after the first 8 KiB', Buffer.concat([Buffer.alloc(9000, 'a'), Buffer.from([0])]), true],
    [
      'invalid UTF-8 after the first 8 KiB',
      Buffer.concat([Buffer.alloc(9000, 'a'), Buffer.from([0xff])]),
      false,
    ],
  ];

  it.each(samples)('%s', (_name, data, text) => {
    expect(isText(data)).toBe(text);
  });

  it('agrees with the bridge’s diff on what is binary', () => {
    for (const [name, data] of samples) expect(isText(data), name).toBe(!isBinary(data));
  });
});

describe('planApply', () => {
  const files: Record<string, Buffer> = {
    'src/a.ts': Buffer.from('export const a = 2;\n'),
    'img/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]),
    'docs/guide.md': Buffer.from('# Guide\n'),
    'new.txt': Buffer.from('new\n'),
  };
  const content = (p: string) => files[p];

  it('writes added and modified files, moves moved ones, and deletes last', () => {
    const steps = planApply(
      [
        change('README.md', 'deleted'),
        change('docs/guide.md', 'moved', 'guide.md'),
        change('img/logo.png', 'added'),
        change('old.txt', 'deleted'),
        change('src/a.ts', 'modified'),
      ],
      content,
    );
    expect(steps).toEqual([
      { kind: 'move', from: 'guide.md', to: 'docs/guide.md', content: files['docs/guide.md'], text: true },
      { kind: 'write', path: 'img/logo.png', content: files['img/logo.png'], text: false },
      { kind: 'write', path: 'src/a.ts', content: files['src/a.ts'], text: true },
      { kind: 'delete', path: 'README.md' },
      { kind: 'delete', path: 'old.txt' },
    ]);
  });

  it('never asks for the content of a deleted file', () => {
    const asked: string[] = [];
    planApply([change('gone.txt', 'deleted'), change('new.txt', 'added')], (p) => {
      asked.push(p);
      return files[p];
    });
    expect(asked).toEqual(['new.txt']);
  });

  it('treats a "moved" change without a source as a write', () => {
    expect(planApply([change('new.txt', 'moved', null)], content)).toEqual([
      { kind: 'write', path: 'new.txt', content: files['new.txt'], text: true },
    ]);
  });

  it('does not delete the source of a move when another change writes that path', () => {
    // v2 -> v3 then v1 -> v2, as the bridge lists it (by path).
    const chain = { 'n/v2.md': Buffer.from('first\n'), 'n/v3.md': Buffer.from('second\n') };
    const steps = planApply(
      [
        change('n/v1.md', 'deleted'),
        change('n/v2.md', 'moved', 'n/v1.md'),
        change('n/v3.md', 'moved', 'n/v2.md'),
      ],
      (p) => chain[p as keyof typeof chain],
    );
    expect(steps.map((s) => (s.kind === 'move' ? `move ${s.from} ${s.to}` : `${s.kind} ${s.path}`))).toEqual([
      'move n/v1.md n/v2.md',
      'write n/v3.md',
      'delete n/v1.md',
    ]);
  });

  it('makes a symlink step of a link (its text from the stat, no content read) and keeps a file’s mode', () => {
    const asked: string[] = [];
    const steps = planApply(
      [change('bin/x', 'added'), change('run.sh', 'modified'), change('l2', 'moved', 'l1')],
      (p) => {
        asked.push(p);
        return files['new.txt'];
      },
      (p) =>
        p === 'run.sh'
          ? { type: 'file', mode: 0o755 }
          : { type: 'symlink', mode: 0o777, target: '../pkg/cli.js' },
    );
    expect(steps).toEqual([
      { kind: 'link', path: 'bin/x', target: '../pkg/cli.js' },
      { kind: 'write', path: 'run.sh', content: files['new.txt'], text: true, mode: 0o755 },
      { kind: 'link', path: 'l2', target: '../pkg/cli.js', from: 'l1' },
    ]);
    expect(asked).toEqual(['run.sh']);
  });

  it('refuses when the shadow has no content for a changed file', () => {
    expect(() => planApply([change('missing.txt', 'modified')], content)).toThrow(
      'no content for missing.txt in the shadow',
    );
  });
});

/**
 * Applies steps to a directory as the Apply command does: its WorkspaceEdit in order (links
 * skipped), between the command's own disk steps before and after it (apply-disk.ts).
 */
function applyToDisk(root: string, steps: ApplyStep[]): void {
  unlinkReplacedLinks(root, steps);
  for (const s of steps) {
    if (s.kind === 'link') continue;
    if (s.kind === 'delete') {
      fs.rmSync(path.join(root, s.path), { force: true });
      continue;
    }
    if (s.kind === 'move') fs.rmSync(path.join(root, s.from), { force: true });
    const target = path.join(root, s.kind === 'move' ? s.to : s.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, s.content);
  }
  finishOnDisk(root, steps);
}

/** Every file under root with its content. */
function tree(root: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, tree(root, p));
    else out[p] = fs.readFileSync(path.join(root, p)).toString('latin1');
  }
  return out;
}

describe('a plan of a real bridge’s changes, applied to a directory', () => {
  let b: BridgeProcess;
  let ws: string;
  const initial: Record<string, string> = {
    'README.md': '# project\n',
    'src/index.ts': 'export const x = 1;\n',
    'notes/v1.md': 'first\n',
    'notes/v2.md': 'second\n',
    'a.txt': 'A\n',
    'b.txt': 'B\n',
    'obsolete.txt': 'old\n',
  };

  const dir = () => tempDir('lh-ext-apply-');

  beforeAll(async () => {
    ws = path.join(dir(), 'ws');
    for (const [p, text] of Object.entries(initial)) {
      fs.mkdirSync(path.dirname(path.join(ws, p)), { recursive: true });
      fs.writeFileSync(path.join(ws, p), text);
    }
    b = await startBridge({ workspace: ws });
  });
  afterAll(async () => {
    await b?.stop();
  });

  /** The agent's changes, planned and applied to a fresh copy of the workspace. */
  async function applyAgent(agentId: string): Promise<Record<string, string>> {
    const agent = b.agent(agentId);
    const { changes } = await agent.changes();
    const contents = new Map<string, Buffer>();
    for (const c of changes) if (c.status !== 'deleted') contents.set(c.path, await agent.readFile(c.path));
    const copy = path.join(dir(), 'ws');
    fs.cpSync(ws, copy, { recursive: true });
    applyToDisk(
      copy,
      planApply(changes, (p) => contents.get(p)),
    );
    return tree(copy);
  }

  it('leaves the workspace as the agent made it: edits, a binary file, a rename, a deletion', async () => {
    const alice = b.agent('alice');
    await alice.writeFile('src/index.ts', 'export const x = 2;\n');
    await alice.writeFile('assets/icon.bin', Buffer.from([0, 1, 2, 0xff]));
    await alice.move('README.md', 'docs/README.md');
    await alice.deleteFile('obsolete.txt');
    const { 'README.md': readme, 'obsolete.txt': _gone, ...kept } = initial;
    expect(await applyAgent('alice')).toEqual({
      ...kept,
      'src/index.ts': 'export const x = 2;\n',
      'assets/icon.bin': Buffer.from([0, 1, 2, 0xff]).toString('latin1'),
      'docs/README.md': readme,
    });
  });

  it('keeps every file of a chain of renames (v2 → v3, then v1 → v2)', async () => {
    const bob = b.agent('bob');
    await bob.move('notes/v2.md', 'notes/v3.md');
    await bob.move('notes/v1.md', 'notes/v2.md');
    const { 'notes/v1.md': v1, 'notes/v2.md': v2, ...rest } = initial;
    expect(await applyAgent('bob')).toEqual({ ...rest, 'notes/v2.md': v1, 'notes/v3.md': v2 });
  });

  it('swaps two files through a temporary name', async () => {
    const carol = b.agent('carol');
    await carol.move('a.txt', 'tmp.txt');
    await carol.move('b.txt', 'a.txt');
    await carol.move('tmp.txt', 'b.txt');
    expect(await applyAgent('carol')).toEqual({ ...initial, 'a.txt': 'B\n', 'b.txt': 'A\n' });
  });
});
