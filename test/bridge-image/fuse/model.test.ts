import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

const fuseAvailable = fs.existsSync('/dev/fuse') && process.getuid?.() === 0;

/** What an operation gave: a value, or the errno it failed with. */
type Outcome = { ok: unknown } | { err: string };
const run = (fn: () => unknown): Outcome => {
  try {
    return { ok: fn() };
  } catch (e) {
    return { err: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
};

const NAMES = ['a', 'b', 'd', 'd/a', 'd/e', 'd/e/f', 'x'];
const name = fc.constantFrom(...NAMES);
const content = fc.string({ maxLength: 40 });

type Cmd =
  | { op: 'write'; p: string; c: string }
  | { op: 'append'; p: string; c: string }
  | { op: 'read'; p: string }
  | { op: 'unlink'; p: string }
  | { op: 'mkdir'; p: string }
  | { op: 'rmdir'; p: string }
  | { op: 'rename'; p: string; to: string }
  | { op: 'readdir'; p: string }
  | { op: 'stat'; p: string }
  | { op: 'truncate'; p: string; n: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ op: fc.constant('write' as const), p: name, c: content }),
  fc.record({ op: fc.constant('append' as const), p: name, c: content }),
  fc.record({ op: fc.constant('read' as const), p: name }),
  fc.record({ op: fc.constant('unlink' as const), p: name }),
  fc.record({ op: fc.constant('mkdir' as const), p: name }),
  fc.record({ op: fc.constant('rmdir' as const), p: name }),
  fc.record({ op: fc.constant('rename' as const), p: name, to: name }),
  fc.record({ op: fc.constant('readdir' as const), p: fc.constantFrom('', 'd', 'd/e') }),
  fc.record({ op: fc.constant('stat' as const), p: name }),
  fc.record({ op: fc.constant('truncate' as const), p: name, n: fc.nat({ max: 50 }) }),
);

function apply(root: string, c: Cmd): Outcome {
  const p = path.join(root, c.p);
  switch (c.op) {
    case 'write':
      return run(() => fs.writeFileSync(p, c.c));
    case 'append':
      return run(() => fs.appendFileSync(p, c.c));
    case 'read':
      return run(() => fs.readFileSync(p, 'utf8'));
    case 'unlink':
      return run(() => fs.unlinkSync(p));
    case 'mkdir':
      return run(() => fs.mkdirSync(p));
    case 'rmdir':
      return run(() => fs.rmdirSync(p));
    case 'rename':
      return run(() => fs.renameSync(p, path.join(root, c.to)));
    case 'readdir':
      return run(() => fs.readdirSync(p).sort());
    case 'stat':
      return run(() => {
        const st = fs.statSync(p);
        return { dir: st.isDirectory(), size: st.isDirectory() ? 0 : st.size };
      });
    case 'truncate':
      return run(() => fs.truncateSync(p, c.n));
  }
}

/** Renaming a path onto itself is left out (the kernel answers it without asking the mount). */
function skip(_real: string, c: Cmd): boolean {
  return c.op === 'rename' && c.p === c.to;
}

let b: BridgeProcess;
let mnt: string;
let agentNo = 0;

describe.skipIf(!fuseAvailable)('a shadow through the mount behaves like a directory', () => {
  beforeAll(async () => {
    const top = tempDir();
    fs.mkdirSync(path.join(top, 'ws'));
    mnt = path.join(top, 'mnt');
    b = await startBridge({ workspace: path.join(top, 'ws'), fuseMount: mnt });
  });
  afterAll(async () => {
    await b.stop();
  });

  it('10,000 random operations give the same results in a shadow and in a real directory', async () => {
    let ops = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 200, maxLength: 200 }), async (cmds) => {
        const agent = `model-${agentNo++}`;
        await b.agent(agent).registerAgent({ capabilities: [] });
        const real = tempDir('lh-model-');
        const shadow = path.join(mnt, 'shadows', agent);
        ops += replay(cmds, shadow, real);
      }),
      { numRuns: 55, seed: Number(process.env.MODEL_SEED ?? 20261122), endOnFailure: true },
    );
    expect(ops).toBeGreaterThanOrEqual(10_000);
  });
});

/** Applies each command to the shadow and to the real directory, expecting the same; returns how many ran. */
function replay(cmds: Cmd[], shadow: string, real: string): number {
  let ran = 0;
  for (const [i, c] of cmds.entries()) {
    if (skip(real, c)) continue;
    const want = apply(real, c);
    const got = apply(shadow, c);
    ran++;
    expect(got, `step ${i}: ${JSON.stringify(c)}`).toEqual(want);
  }
  expect(apply(shadow, { op: 'readdir', p: '' })).toEqual(apply(real, { op: 'readdir', p: '' }));
  return ran;
}

/** The same over a workspace that already has files and directories at those names. */
describe.skipIf(!fuseAvailable)('a shadow over a non-empty workspace behaves like a copy of it', () => {
  let bb: BridgeProcess;
  let ws: string;
  const seed = (root: string) => {
    fs.mkdirSync(path.join(root, 'd/e'), { recursive: true });
    fs.writeFileSync(path.join(root, 'a'), 'base a\n');
    fs.writeFileSync(path.join(root, 'd/a'), 'base d/a\n');
    fs.writeFileSync(path.join(root, 'd/e/f'), 'base d/e/f\n');
    fs.writeFileSync(path.join(root, 'x'), 'base x\n');
  };
  beforeAll(async () => {
    const top = tempDir();
    ws = path.join(top, 'ws');
    seed(ws);
    bb = await startBridge({ workspace: ws, fuseMount: path.join(top, 'mnt') });
  });
  afterAll(async () => {
    await bb.stop();
  });

  it('4,000 random operations over workspace files give the same results as on a copy', async () => {
    let ops = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 200, maxLength: 200 }), async (cmds) => {
        const agent = `seeded-${agentNo++}`;
        await bb.agent(agent).registerAgent({ capabilities: [] });
        const real = tempDir('lh-model-');
        seed(real);
        const shadow = path.join(path.dirname(ws), 'mnt', 'shadows', agent);
        ops += replay(cmds, shadow, real);
      }),
      { numRuns: 22, seed: Number(process.env.MODEL_SEED ?? 20261123), endOnFailure: true },
    );
    expect(ops).toBeGreaterThanOrEqual(4_000);
    expect(fs.readFileSync(path.join(ws, 'a'), 'utf8')).toBe('base a\n');
  });
});
