import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

let b: BridgeProcess;
beforeAll(async () => {
  const ws = path.join(tempDir(), 'ws');
  fs.mkdirSync(ws, { recursive: true });
  fs.writeFileSync(path.join(ws, 'a.txt'), 'one\ntwo\nthree\n');
  fs.writeFileSync(path.join(ws, 'gone.txt'), 'bye\n');
  fs.writeFileSync(path.join(ws, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]));
  b = await startBridge({ workspace: ws });
});
afterAll(async () => {
  await b.stop();
});

describe('diff of a shadow', () => {
  it('gives unified diffs for text, and marks binary files without diffing them', async () => {
    const a = b.agent('differ');
    await a.writeFile('a.txt', 'one\n2\nthree\n');
    await a.writeFile('new.txt', 'fresh\n');
    await a.deleteFile('gone.txt');
    await a.writeFile('logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 9, 9, 9]));
    const d = await a.diff();
    const byPath = Object.fromEntries(d.files.map((f) => [f.path, f]));
    expect(byPath['a.txt']).toMatchObject({ status: 'modified', binary: false });
    expect(byPath['a.txt']!.patch).toContain('--- a/a.txt');
    expect(byPath['a.txt']!.patch).toContain('+++ b/a.txt');
    expect(byPath['a.txt']!.patch).toMatch(/-two\n\+2\n/);
    expect(byPath['new.txt']!.patch).toContain('--- /dev/null');
    expect(byPath['new.txt']!.patch).toContain('+fresh');
    expect(byPath['gone.txt']).toMatchObject({ status: 'deleted' });
    expect(byPath['gone.txt']!.patch).toContain('-bye');
    expect(byPath['gone.txt']!.patch).toContain('+++ /dev/null');
    expect(byPath['logo.png']).toMatchObject({ binary: true, patch: null });
  });
});
