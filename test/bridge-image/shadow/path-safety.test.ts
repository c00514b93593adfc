import fs from 'node:fs';
import path from 'node:path';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeError, type BridgeClient } from '../../../bridge-image/protocol/index.js';
import { normalise, PathRejected } from '../../../bridge-image/src/shadow/path-safety.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';
import { traversalCorpus } from './traversal-corpus.js';

const SECRET = `SECRET-${Math.random().toString(36).slice(2)}`;
let b: BridgeProcess;
let top: string;
let ws: string;
let agent: BridgeClient;
const listAll = (dir: string): string[] =>
  fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
let outsideBefore: string[];

beforeAll(async () => {
  top = tempDir();
  ws = path.join(top, 'ws');
  fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
  fs.mkdirSync(path.join(top, 'outside'));
  fs.writeFileSync(path.join(top, 'outside', 'secret.txt'), SECRET);
  fs.writeFileSync(path.join(ws, 'README.md'), 'readme');
  fs.writeFileSync(path.join(ws, 'src', 'base.txt'), 'base');
  fs.symlinkSync('../outside', path.join(ws, 'link'));
  fs.symlinkSync(path.join(top, 'outside', 'secret.txt'), path.join(ws, 'secret-link.txt'));
  fs.symlinkSync('src', path.join(ws, 'inner-link'));
  outsideBefore = listAll(top).filter(
    (p) => !p.startsWith(ws + path.sep) && !p.startsWith(path.join(top, 'data')),
  );
  b = await startBridge({ workspace: ws, dataDir: path.join(top, 'data'), args: ['--rate-limit', '100000'] });
  agent = b.agent('prober');
});
afterAll(async () => {
  await b.stop();
});

describe('path safety', () => {
  it('normalises plain paths and refuses traversal', () => {
    expect(normalise('src/./a//b.ts')).toBe('src/a/b.ts');
    expect(normalise('', true)).toBe('');
    for (const bad of [
      '../x',
      'a/../../x',
      '/etc/passwd',
      'a\\b',
      'a\0b',
      '%2e%2e/x',
      '..%2fx',
      '．．/x',
      '..%00',
    ]) {
      expect(() => normalise(bad), bad).toThrow(PathRejected);
    }
  });

  it('the corpus has at least 2,000 payloads, and none escapes through the HTTP API', async () => {
    const corpus = traversalCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(2000);
    let refused = 0;
    const escapes: string[] = [];
    const attempt = async (p: string, op: () => Promise<unknown>) => {
      try {
        const r = await op();
        const text = Buffer.isBuffer(r) ? r.toString() : JSON.stringify(r);
        if (text.includes(SECRET)) escapes.push(p);
      } catch (e) {
        if (!(e instanceof BridgeError)) throw e;
        expect([400, 403, 404, 409], `${p}: ${e.message}`).toContain(e.status);
        if (e.status === 400 || e.status === 403) refused++;
        if (e.message.includes(SECRET)) escapes.push(p);
      }
    };
    const queue = [...corpus];
    const workers = Array.from({ length: 8 }, async () => {
      for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
        await attempt(p, () => agent.readFile(p));
        await attempt(p, () => agent.stat(p));
        await attempt(p, () => agent.list(p));
        await attempt(p, () => agent.writeFile(p, 'pwned'));
        // the same payload sent raw in the URL, decoded once by the bridge
        if (/^[\x21-\x7e]*$/.test(p) && !p.includes('#')) {
          await attempt(p, async () => (await agent.callRaw('GET', `/v1/shadow/file?path=${p}`)).body);
        }
      }
    });
    await Promise.all(workers);
    expect(escapes).toEqual([]);
    expect(refused).toBeGreaterThanOrEqual(corpus.length * 3);
    const outsideAfter = listAll(top).filter(
      (p) => !p.startsWith(ws + path.sep) && !p.startsWith(path.join(top, 'data')),
    );
    expect(outsideAfter).toEqual(outsideBefore);
    expect(fs.readFileSync(path.join(top, 'outside', 'secret.txt'), 'utf8')).toBe(SECRET);
    const metrics = parsePrometheus(await (await fetch(`${b.url}/metrics`)).text());
    const rejected = metrics
      .find((f) => f.name === 'lighthouse_security_events_total')!
      .metrics.find((m) => m.labels?.kind === 'path_rejected');
    expect(Number(rejected?.value)).toBe(refused);
    const recorded = await b.admin().query({ type: 'security.path_rejected', limit: 1 });
    expect(recorded.events.length).toBe(1);
  });

  it('refuses workspace symlinks that lead outside, and follows those that stay inside', async () => {
    await expect(agent.readFile('link/secret.txt')).rejects.toMatchObject({ status: 403 });
    await expect(agent.readFile('secret-link.txt')).rejects.toMatchObject({ status: 403 });
    await expect(agent.list('link')).rejects.toMatchObject({ status: 403 });
    // Listed as what they are, symlinks with their text; nothing is read through them.
    expect((await agent.list('')).entries.map((e) => [e.name, e.type, e.target])).toEqual([
      ['README.md', 'file', undefined],
      ['inner-link', 'symlink', 'src'],
      ['link', 'symlink', '../outside'],
      ['secret-link.txt', 'symlink', path.join(top, 'outside', 'secret.txt')],
      ['src', 'dir', undefined],
    ]);
    expect((await agent.list('inner-link')).entries.map((e) => e.name)).toEqual(['base.txt']);
    // The mount shows inner-link as a link: a file written below its name would be in no directory.
    await expect(agent.writeFile('inner-link/new.txt', 'x')).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('inner-link is a symlink (to src)'),
    });
    expect((await agent.readFile('inner-link/base.txt')).toString()).toBe('base');
  });
});
