import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';

let b: BridgeProcess;
beforeAll(async () => {
  b = await startBridge();
});
afterAll(async () => {
  await b.stop();
});

describe('annotations', () => {
  it('adds notes to paths and line ranges, lists and resolves them, and keeps them across a restart', async () => {
    const a = b.agent('reviewer');
    const n1 = await a.annotate({
      path: 'src/a.ts',
      note: 'this loop is quadratic',
      lines: { start: 10, end: 14 },
    });
    const n2 = await a.annotate({ path: 'src/a.ts', note: 'naming', lines: { start: 2, end: 2 } });
    await a.annotate({ path: 'README.md', note: 'typo in the title' });
    expect(n1).toMatchObject({
      agentId: 'reviewer',
      path: 'src/a.ts',
      lines: { start: 10, end: 14 },
      resolved: false,
    });
    const forA = (await a.annotations({ path: 'src/a.ts' })).annotations;
    expect(forA.map((x) => x.id)).toEqual([n2.id, n1.id]);
    const resolved = await b.agent('author').resolveAnnotation(n1.id);
    expect(resolved).toMatchObject({ resolved: true, resolvedBy: 'author' });
    expect((await a.annotations({ path: 'src/a.ts' })).annotations.map((x) => x.id)).toEqual([n2.id]);
    expect((await a.annotations({ path: 'src/a.ts', includeResolved: true })).annotations).toHaveLength(2);
    await b.stop();
    b = await startBridge({ dataDir: b.dataDir, secret: b.secret });
    const after = (await b.agent('x').annotations({ includeResolved: true })).annotations;
    expect(after.map((x) => [x.path, x.resolved])).toEqual([
      ['README.md', false],
      ['src/a.ts', false],
      ['src/a.ts', true],
    ]);
  });

  it('refuses bad annotations with the field named, and traversal paths as security events', async () => {
    const a = b.agent('sloppy');
    await expect(a.annotate({ path: 'a.ts', note: '' })).rejects.toThrow(/note/);
    await expect(a.annotate({ path: 'a.ts', note: 'x', lines: { start: 5, end: 2 } })).rejects.toThrow(
      /lines.end/,
    );
    await expect(a.annotate({ path: '../etc/passwd', note: 'x' })).rejects.toMatchObject({ status: 403 });
    await expect(a.resolveAnnotation('nope')).rejects.toMatchObject({ status: 404 });
    const sec = await b.admin().query({ type: 'security.path_rejected' });
    expect(sec.events.length).toBeGreaterThan(0);
  });
});
