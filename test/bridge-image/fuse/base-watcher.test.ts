import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BaseWatcher } from '../../../bridge-image/src/fuse/base-watcher.js';
import { tempDir } from '../../helpers/bridge-process.js';

const watchers: BaseWatcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
});

const until = async (fn: () => boolean) => {
  const deadline = Date.now() + 3000;
  while (!fn() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return fn();
};

describe('BaseWatcher', () => {
  it('reports edits, new directories and their files, but not skipped directories', async () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'src'));
    fs.mkdirSync(path.join(root, 'skip'));
    const seen = new Set<string>();
    const w = new BaseWatcher(
      root,
      100,
      (rels) => rels.forEach((r) => seen.add(r)),
      (r) => r === 'skip',
    );
    watchers.push(w);
    expect(w.watched).toBe(2);
    fs.writeFileSync(path.join(root, 'src', 'a.ts'), 'a');
    expect(await until(() => seen.has('src/a.ts'))).toBe(true);
    fs.mkdirSync(path.join(root, 'src', 'new'));
    expect(await until(() => seen.has('src/new'))).toBe(true);
    fs.writeFileSync(path.join(root, 'src', 'new', 'b.ts'), 'b');
    expect(await until(() => seen.has('src/new/b.ts'))).toBe(true);
    fs.writeFileSync(path.join(root, 'skip', 'c.ts'), 'c');
    await new Promise((r) => setTimeout(r, 100));
    expect([...seen].some((r) => r.startsWith('skip/'))).toBe(false);
  });

  it('ignores reads (atime) and watches at most `limit` directories, saying so', async () => {
    const root = tempDir();
    for (let i = 0; i < 5; i++) fs.mkdirSync(path.join(root, `d${i}`));
    fs.writeFileSync(path.join(root, 'old.txt'), 'old');
    // An atime older than the mtime: the next read updates it (relatime), which inotify reports.
    fs.utimesSync(path.join(root, 'old.txt'), new Date(Date.now() - 120_000), new Date(Date.now() - 60_000));
    await new Promise((r) => setTimeout(r, 2100)); // let the ctime of the utimes age
    const seen: string[] = [];
    const w = new BaseWatcher(root, 3, (rels) => seen.push(...rels));
    watchers.push(w);
    expect(w.watched).toBe(3);
    expect(w.partial).toBe(true);
    fs.readFileSync(path.join(root, 'old.txt'));
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
    fs.writeFileSync(path.join(root, 'old.txt'), 'new');
    expect(await until(() => seen.includes('old.txt'))).toBe(true);
  });
});
