import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Annotation,
  AnnotationList,
  Lease,
  LeaseList,
  ShadowDiff,
  ShadowListing,
  ShadowWriteResult,
  type BridgeClient,
} from '../../bridge-image/protocol/index.js';
import { shadowChangesOutput } from '../../mcp-server/tools/shadow-changes.js';
import { shadowDiffOutput } from '../../mcp-server/tools/shadow-diff.js';
import { deleteFileOutput } from '../../mcp-server/tools/delete-file.js';
import { editFileOutput } from '../../mcp-server/tools/edit-file.js';
import { moveFileOutput } from '../../mcp-server/tools/move-file.js';
import { MAX_TEXT_BYTES, readFileOutput } from '../../mcp-server/tools/read-file.js';
import { searchFilesOutput } from '../../mcp-server/tools/search-files.js';
import { treeOutput } from '../../mcp-server/tools/tree.js';
import { startBridge, tempDir, type BridgeProcess } from '../helpers/bridge-process.js';
import { agentArgs, connectMcp, textOf, type McpConnection } from './mcp-process.js';

const AGENT = 'claude-1';
/** What the key and secret files under .lighthouse/ hold: looked for in every answer. */
const STATE_KEY = 'f00dfeed'.repeat(8);
const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** The workspace the bridge starts with: the base layer every shadow sees until it changes a path. */
const WORKSPACE: Record<string, string | Buffer> = {
  'README.md': '# Project\nTODO: write the docs\n',
  'src/a.ts': 'export const a = 1;\nexport const b = 2;\nexport const c = 3;\nexport const d = 4;\n',
  'src/dup.ts': 'let x = 1;\nlet x = 1;\n',
  'src/notes.md': 'TODO in markdown\n',
  'src/todo.ts': '// Todo: nothing\nconst s = "TODO: in code";\n',
  'src/deep/deeper/deepest/z.ts': 'export const z = "TODO deep";\n',
  'src/deep/y.ts': 'export const y = 0;\n',
  'docs/guide.md': 'Guide\n\nTODO: examples\n',
  'node_modules/pkg/index.js': '// TODO in a dependency\n',
  'assets/logo.bin': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02, 0x54, 0x4f, 0x44, 0x4f]),
  'del/one.txt': 'one\n',
  'mv/from.txt': 'moving\n',
  'mv/taken.txt': 'already here\n',
  // 400 KB of numbered lines: more than one read_file call returns.
  'big/lines.txt':
    Array.from({ length: 40_000 }, (_, i) => `line ${String(i + 1).padStart(5, '0')}`).join('\n') + '\n',
};

describe('the shadow, lease and annotation tools against a real bridge', () => {
  let bridge: BridgeProcess;
  let mcp: McpConnection;
  /** One admin client throughout: it reads what the bridge really holds for the agent. */
  let admin: BridgeClient;

  beforeAll(async () => {
    const ws = path.join(tempDir(), 'ws');
    for (const [rel, content] of Object.entries(WORKSPACE)) {
      fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
      fs.writeFileSync(path.join(ws, rel), content);
    }
    fs.mkdirSync(path.join(ws, 'empty'));
    // The bridge's own state, where native mode keeps it: never part of what an agent sees.
    fs.mkdirSync(path.join(ws, '.lighthouse', 'keys'), { recursive: true });
    fs.writeFileSync(path.join(ws, '.lighthouse', 'keys', `${AGENT}.key`), `${STATE_KEY}\n`);
    fs.writeFileSync(path.join(ws, '.lighthouse', 'secret'), `${STATE_KEY}\n`);
    bridge = await startBridge({ workspace: ws });
    mcp = await connectMcp(agentArgs(bridge, AGENT));
    admin = bridge.admin();
  });
  afterAll(async () => {
    await mcp?.close();
    await bridge?.stop();
  });

  /** The file as the bridge holds it in the agent's shadow. */
  const shadowText = async (rel: string) => (await admin.readFile(rel, { agent: AGENT })).toString('utf8');
  const ok = async (name: string, args: Record<string, unknown> = {}) => {
    const res = await mcp.call(name, args);
    expect(res.isError, `${name}: ${textOf(res)}`).toBeFalsy();
    return res;
  };
  const failed = async (name: string, args: Record<string, unknown>) => {
    const res = await mcp.call(name, args);
    expect(res.isError, `${name} should fail: ${textOf(res)}`).toBe(true);
    expect(res.structuredContent).toBeUndefined();
    return textOf(res);
  };

  describe('read_file', () => {
    it('reads a whole file with its size, hash and line count, the text as text', async () => {
      const res = await ok('read_file', { path: 'src/a.ts' });
      const out = readFileOutput.parse(res.structuredContent);
      const content = WORKSPACE['src/a.ts'] as string;
      expect(out).toMatchObject({
        path: 'src/a.ts',
        size: Buffer.byteLength(content),
        hash: sha256(content),
        binary: false,
        text: content,
        lines: { start: 1, end: 4, total: 4 },
        bytes: null,
        truncated: false,
      });
      // The hash is the one the bridge itself reports.
      expect(out.hash).toBe((await admin.stat('src/a.ts', { agent: AGENT })).hash);
      // The model reads the file as plain text, not as escaped JSON.
      expect(res.content.some((c) => c.type === 'text' && c.text === content)).toBe(true);
    });

    it('reads a line range', async () => {
      const out = readFileOutput.parse(
        (await ok('read_file', { path: 'src/a.ts', start_line: 2, end_line: 3 })).structuredContent,
      );
      expect(out.text).toBe('export const b = 2;\nexport const c = 3;\n');
      expect(out.lines).toEqual({ start: 2, end: 3, total: 4 });
      expect(out.hash).toBe(sha256(WORKSPACE['src/a.ts']!));
      const tail = readFileOutput.parse(
        (await ok('read_file', { path: 'src/a.ts', start_line: 4 })).structuredContent,
      );
      expect(tail.text).toBe('export const d = 4;\n');
      expect(await failed('read_file', { path: 'src/a.ts', start_line: 9 })).toContain('has 4 lines');
    });

    it('reads a byte range, giving the size and hash of the whole file', async () => {
      const res = await ok('read_file', { path: 'src/a.ts', offset: 7, length: 5 });
      const out = readFileOutput.parse(res.structuredContent);
      const content = WORKSPACE['src/a.ts'] as string;
      expect(out.text).toBe(content.slice(7, 12));
      expect(out.bytes).toEqual({ offset: 7, length: 5 });
      expect(out).toMatchObject({ size: content.length, hash: sha256(content), lines: null });
    });

    it('returns a file longer than MAX_TEXT_BYTES in parts of whole lines, saying where to read on', async () => {
      const content = WORKSPACE['big/lines.txt'] as string;
      const res = await ok('read_file', { path: 'big/lines.txt' });
      const first = readFileOutput.parse(res.structuredContent);
      expect(first.truncated).toBe(true);
      expect(first.size).toBe(content.length);
      expect(first.hash).toBe(sha256(content));
      expect(Buffer.byteLength(first.text!)).toBeLessThanOrEqual(MAX_TEXT_BYTES);
      expect(first.text!.endsWith('\n')).toBe(true);
      const next = first.lines!.end + 1;
      expect(textOf(res)).toContain(`start_line ${next}`);
      let text = first.text!;
      for (let start = next; ;) {
        const part = readFileOutput.parse(
          (await ok('read_file', { path: 'big/lines.txt', start_line: start })).structuredContent,
        );
        text += part.text!;
        if (!part.truncated) break;
        start = part.lines!.end + 1;
      }
      expect(text).toBe(content);
    });

    it('refuses a line range and a byte range together', async () => {
      expect(await failed('read_file', { path: 'src/a.ts', start_line: 1, offset: 3 })).toContain('not both');
    });

    it('says a binary file is binary, with its size and hash, instead of showing it', async () => {
      const data = WORKSPACE['assets/logo.bin'] as Buffer;
      const res = await ok('read_file', { path: 'assets/logo.bin' });
      const out = readFileOutput.parse(res.structuredContent);
      expect(out).toMatchObject({ binary: true, text: null, size: data.length, hash: sha256(data) });
      expect(textOf(res)).toContain('is binary');
      expect(textOf(res)).toContain(sha256(data));
    });

    it('a missing file is an error that says how to find what exists', async () => {
      const text = await failed('read_file', { path: 'src/nope.ts' });
      expect(text).toContain('src/nope.ts');
      expect(text).toContain('list_directory');
    });
  });

  describe('write_file and edit_file', () => {
    it('write_file creates a file in the shadow only', async () => {
      const res = await ok('write_file', { path: 'src/new/created.ts', content: 'export {};\n' });
      const out = ShadowWriteResult.parse(res.structuredContent);
      expect(out).toMatchObject({
        path: 'src/new/created.ts',
        hash: sha256('export {};\n'),
        conflict: false,
      });
      expect(await shadowText('src/new/created.ts')).toBe('export {};\n');
      expect(fs.existsSync(path.join(bridge.workspace, 'src/new/created.ts'))).toBe(false);
      const changes = await admin.changes({ agent: AGENT });
      expect(changes.changes.find((c) => c.path === 'src/new/created.ts')?.status).toBe('added');
    });

    it('write_file with a stale if_match stores the write but reports the conflict', async () => {
      await ok('write_file', { path: 'src/cas.ts', content: 'v1\n' });
      const current = await ok('write_file', {
        path: 'src/cas.ts',
        content: 'v2\n',
        if_match: sha256('v1\n'),
      });
      expect(ShadowWriteResult.parse(current.structuredContent).conflict).toBe(false);
      const stale = await ok('write_file', { path: 'src/cas.ts', content: 'v3\n', if_match: sha256('v1\n') });
      expect(ShadowWriteResult.parse(stale.structuredContent).conflict).toBe(true);
      expect(textOf(stale)).toContain('CONFLICT');
      expect(await shadowText('src/cas.ts')).toBe('v3\n');
      const changes = await admin.changes({ agent: AGENT });
      expect(changes.changes.find((c) => c.path === 'src/cas.ts')?.conflict).toBe(true);
    });

    it('edit_file replaces a unique string and reports one replacement', async () => {
      const res = await ok('edit_file', {
        path: 'src/a.ts',
        old_string: 'export const b = 2;',
        new_string: 'export const b = "$&";',
      });
      const out = editFileOutput.parse(res.structuredContent);
      expect(out.replacements).toBe(1);
      expect(out.conflict).toBe(false);
      const expected = (WORKSPACE['src/a.ts'] as string).replace('b = 2;', () => 'b = "$&";');
      expect(await shadowText('src/a.ts')).toBe(expected);
      expect(out.hash).toBe(sha256(expected));
      // The workspace itself is untouched.
      expect(fs.readFileSync(path.join(bridge.workspace, 'src/a.ts'), 'utf8')).toBe(WORKSPACE['src/a.ts']);
    });

    it('edit_file refuses a string that matches twice without replace_all, and changes nothing', async () => {
      const before = (await admin.status()).lastSeq;
      const text = await failed('edit_file', {
        path: 'src/dup.ts',
        old_string: 'let x = 1;',
        new_string: 'y',
      });
      expect(text).toContain('occurs 2 times');
      expect(text).toContain('replace_all');
      expect(await shadowText('src/dup.ts')).toBe(WORKSPACE['src/dup.ts']);
      expect((await admin.changes({ agent: AGENT })).changes.map((c) => c.path)).not.toContain('src/dup.ts');
      expect((await admin.status()).lastSeq).toBe(before);

      const all = await ok('edit_file', {
        path: 'src/dup.ts',
        old_string: 'let x = 1;',
        new_string: 'let x = 2;',
        replace_all: true,
      });
      expect(editFileOutput.parse(all.structuredContent).replacements).toBe(2);
      expect(await shadowText('src/dup.ts')).toBe('let x = 2;\nlet x = 2;\n');
    });

    it('edit_file refuses a string that is not there, and a binary file', async () => {
      expect(
        await failed('edit_file', { path: 'src/a.ts', old_string: 'not in the file', new_string: 'x' }),
      ).toContain('not found');
      expect(
        await failed('edit_file', { path: 'assets/logo.bin', old_string: 'TODO', new_string: 'x' }),
      ).toContain('binary');
      expect(await failed('edit_file', { path: 'src/gone.ts', old_string: 'a', new_string: 'b' })).toContain(
        'src/gone.ts',
      );
    });
  });

  describe('delete_file and move_file', () => {
    it('delete_file removes a file from the shadow, not from the workspace', async () => {
      const out = deleteFileOutput.parse(
        (await ok('delete_file', { path: 'del/one.txt' })).structuredContent,
      );
      expect(out).toMatchObject({ path: 'del/one.txt', type: 'file' });
      await expect(admin.stat('del/one.txt', { agent: AGENT })).rejects.toMatchObject({ code: 'ENOENT' });
      expect(fs.existsSync(path.join(bridge.workspace, 'del/one.txt'))).toBe(true);
      expect(
        (await admin.changes({ agent: AGENT })).changes.find((c) => c.path === 'del/one.txt'),
      ).toMatchObject({ status: 'deleted', seq: out.seq });
    });

    it('delete_file removes an empty directory, and refuses a full one saying why', async () => {
      const out = deleteFileOutput.parse((await ok('delete_file', { path: 'empty' })).structuredContent);
      expect(out.type).toBe('dir');
      await expect(admin.stat('empty', { agent: AGENT })).rejects.toMatchObject({ code: 'ENOENT' });
      const text = await failed('delete_file', { path: 'docs' });
      expect(text).toContain('Only an empty directory can be removed');
      expect((await admin.stat('docs/guide.md', { agent: AGENT })).type).toBe('file');
    });

    it('move_file moves a file, refuses to replace one unless told to', async () => {
      const refused = await failed('move_file', { from: 'mv/from.txt', to: 'mv/taken.txt' });
      expect(refused).toContain('overwrite');
      expect(await shadowText('mv/taken.txt')).toBe('already here\n');

      const out = moveFileOutput.parse(
        (await ok('move_file', { from: 'mv/from.txt', to: 'moved/to.txt' })).structuredContent,
      );
      expect(out).toMatchObject({ from: 'mv/from.txt', to: 'moved/to.txt', replaced: false });
      expect(await shadowText('moved/to.txt')).toBe('moving\n');
      await expect(admin.stat('mv/from.txt', { agent: AGENT })).rejects.toMatchObject({ code: 'ENOENT' });
      const change = (await admin.changes({ agent: AGENT })).changes.find((c) => c.path === 'moved/to.txt');
      expect(change).toMatchObject({ status: 'moved', movedFrom: 'mv/from.txt' });

      const replaced = moveFileOutput.parse(
        (await ok('move_file', { from: 'moved/to.txt', to: 'mv/taken.txt', overwrite: true }))
          .structuredContent,
      );
      expect(replaced.replaced).toBe(true);
      expect(await shadowText('mv/taken.txt')).toBe('moving\n');
    });
  });

  describe('list_directory, tree and search_files', () => {
    it('list_directory shows what the bridge lists for the shadow', async () => {
      const res = await ok('list_directory', { path: 'src' });
      const listing = ShadowListing.parse(res.structuredContent);
      const truth = await admin.list('src', { agent: AGENT });
      expect(listing.entries.map((e) => [e.name, e.type, e.hash])).toEqual(
        truth.entries.map((e) => [e.name, e.type, e.hash]),
      );
      expect(listing.entries.map((e) => e.name)).toEqual(expect.arrayContaining(['a.ts', 'deep', 'new']));
      const root = ShadowListing.parse((await ok('list_directory')).structuredContent);
      expect(root.path).toBe('');
      expect(root.entries.map((e) => e.name)).toEqual(expect.arrayContaining(['README.md', 'src', 'docs']));
      expect(await failed('list_directory', { path: 'src/a.ts' })).toContain('A file stands where');
    });

    it('tree respects the depth limit and the entry cap, and does not expand node_modules', async () => {
      const one = treeOutput.parse((await ok('tree', { depth: 1 })).structuredContent);
      expect(one.entries.every((e) => e.depth === 1 && !e.path.includes('/'))).toBe(true);
      expect(one.entries.map((e) => e.path)).toEqual(expect.arrayContaining(['README.md', 'src', 'docs']));

      const res = await ok('tree', { path: 'src', depth: 2 });
      const two = treeOutput.parse(res.structuredContent);
      const paths = two.entries.map((e) => e.path);
      expect(paths).toEqual(
        expect.arrayContaining(['src/a.ts', 'src/deep', 'src/deep/y.ts', 'src/deep/deeper']),
      );
      expect(paths).not.toContain('src/deep/deeper/deepest');
      expect(Math.max(...two.entries.map((e) => e.depth))).toBe(2);
      expect(two.truncated).toBe(false);
      // Rendered as an indented tree: a directory's entries right under it.
      const text = textOf(res);
      expect(text).toMatch(/ {2}deep\/\n {4}deeper\/ …\n {4}y\.ts/);

      const deep = treeOutput.parse((await ok('tree', { depth: 10 })).structuredContent);
      expect(deep.entries.map((e) => e.path)).toContain('src/deep/deeper/deepest/z.ts');
      expect(deep.entries.map((e) => e.path)).toContain('node_modules');
      expect(deep.entries.map((e) => e.path)).not.toContain('node_modules/pkg');

      const capped = treeOutput.parse((await ok('tree', { depth: 10, max_entries: 3 })).structuredContent);
      expect(capped.entries).toHaveLength(3);
      expect(capped.truncated).toBe(true);
    });

    it('search_files finds regex matches, only in files the glob selects', async () => {
      const res = await ok('search_files', { pattern: 'TODO:?\\s+\\w+', glob: '**/*.md' });
      const out = searchFilesOutput.parse(res.structuredContent);
      expect(out.matches).toEqual([
        { path: 'README.md', line: 2, text: 'TODO: write the docs' },
        { path: 'docs/guide.md', line: 3, text: 'TODO: examples' },
        { path: 'src/notes.md', line: 1, text: 'TODO in markdown' },
      ]);
      expect(out.filesMatched).toBe(3);
      expect(out.stoppedAt).toBeNull();
      expect(textOf(res)).toContain('docs/guide.md:3: TODO: examples');

      // A glob without "/" matches file names anywhere; node_modules and binary files are skipped.
      const ts = searchFilesOutput.parse(
        (await ok('search_files', { pattern: 'todo', glob: '*.{ts,js,bin}', case_insensitive: true }))
          .structuredContent,
      );
      expect(ts.matches.map((m) => `${m.path}:${m.line}`)).toEqual([
        'src/deep/deeper/deepest/z.ts:1',
        'src/todo.ts:1',
        'src/todo.ts:2',
      ]);
      expect(ts.skippedBinary).toEqual(['assets/logo.bin']);

      const capped = searchFilesOutput.parse(
        (await ok('search_files', { pattern: 'TODO', max_matches: 2 })).structuredContent,
      );
      expect(capped.matches).toHaveLength(2);
      expect(capped.stoppedAt).toBe('max_matches');
    });

    it('search_files sees the agent’s own changes, under a path', async () => {
      await ok('write_file', { path: 'src/new/fresh.ts', content: 'const needle = 42;\n' });
      const out = searchFilesOutput.parse(
        (await ok('search_files', { pattern: 'needle\\s*=\\s*\\d+', path: 'src/new' })).structuredContent,
      );
      expect(out.matches).toEqual([{ path: 'src/new/fresh.ts', line: 1, text: 'const needle = 42;' }]);
      expect(await failed('search_files', { pattern: '(unclosed' })).toContain(
        'not a valid regular expression',
      );
    });
  });

  describe('shadow_diff and shadow_changes', () => {
    it('shadow_changes is what the bridge holds for the agent', async () => {
      const res = await ok('shadow_changes');
      const { note, shown, ...mine } = shadowChangesOutput.parse(res.structuredContent);
      expect(mine).toEqual(await admin.changes({ agent: AGENT, limit: 100 }));
      expect(shown).toBe(mine.changes.length);
      expect(note).toContain(`${mine.total} changed paths in your shadow`);
      expect(mine.agentId).toBe(AGENT);
      expect(textOf(res)).toContain('src/cas.ts');
    });

    it('shadow_diff gives unified diffs of the agent’s changes, filtered by path', async () => {
      const res = await ok('shadow_diff');
      const { note, shown, ...diff } = shadowDiffOutput.parse(res.structuredContent);
      expect(diff).toEqual(await admin.diff({ agent: AGENT, limit: 20, maxBytes: 12 * 1024 }));
      expect(shown).toBe(diff.files.length);
      expect(note).toContain(`${diff.total} changed files in your shadow`);
      const a = diff.files.find((f) => f.path === 'src/a.ts')!;
      expect(a).toMatchObject({ status: 'modified', binary: false });
      expect(a.patch).toContain('-export const b = 2;');
      expect(a.patch).toContain('+export const b = "$&";');
      expect(textOf(res)).toContain('+export const b = "$&";');

      const only = ShadowDiff.parse((await ok('shadow_diff', { path: 'src/new' })).structuredContent);
      expect(only.files.map((f) => f.path).sort()).toEqual(['src/new/created.ts', 'src/new/fresh.ts']);
    });
  });

  describe('leases', () => {
    it('acquire, list, renew and release: each is what the bridge holds', async () => {
      const acquired = Lease.parse(
        (await ok('acquire_lease', { globs: ['lib/**'], ttl_ms: 60_000 })).structuredContent,
      );
      expect(acquired).toMatchObject({ agentId: AGENT, globs: ['lib/**'], mode: 'exclusive' });
      expect((await admin.listLeases()).leases).toContainEqual(acquired);

      const listed = LeaseList.parse((await ok('list_leases')).structuredContent);
      expect(listed).toEqual(await admin.listLeases());

      const renewed = Lease.parse(
        (await ok('renew_lease', { lease_id: acquired.id, ttl_ms: 600_000 })).structuredContent,
      );
      expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.parse(acquired.expiresAt));
      expect((await admin.listLeases()).leases.find((l) => l.id === acquired.id)?.expiresAt).toBe(
        renewed.expiresAt,
      );

      await ok('release_lease', { lease_id: acquired.id });
      expect((await admin.listLeases()).leases.map((l) => l.id)).not.toContain(acquired.id);
      const again = await failed('release_lease', { lease_id: acquired.id });
      expect(again).toContain('list_leases');
    });

    it('another agent’s lease makes writes fail naming the holder and the expiry, and nothing is written', async () => {
      const other = bridge.agent('claude-2');
      const lease = await other.acquireLease({ globs: ['locked/**'], ttlMs: 120_000 });
      try {
        const text = await failed('write_file', { path: 'locked/x.ts', content: 'mine' });
        expect(text).toContain('agent "claude-2"');
        expect(text).toContain(lease.expiresAt);
        expect(text).toContain('locked/**');
        expect(text).toMatch(/in about 2 min/);
        expect(text).toMatch(/[Ww]ait/);
        await expect(admin.stat('locked/x.ts', { agent: AGENT })).rejects.toMatchObject({ code: 'ENOENT' });

        const overlapping = await failed('acquire_lease', { globs: ['locked/x.ts'] });
        expect(overlapping).toContain('claude-2');
      } finally {
        await other.releaseLease(lease.id);
      }
      await ok('write_file', { path: 'locked/x.ts', content: 'mine' });
      expect(await shadowText('locked/x.ts')).toBe('mine');
    });
  });

  describe('annotations', () => {
    it('add, list and resolve: each is what the bridge holds', async () => {
      const added = Annotation.parse(
        (
          await ok('add_annotation', {
            path: 'src/a.ts',
            note: 'b must stay a number',
            start_line: 2,
            end_line: 3,
          })
        ).structuredContent,
      );
      expect(added).toMatchObject({ agentId: AGENT, path: 'src/a.ts', lines: { start: 2, end: 3 } });
      const single = Annotation.parse(
        (await ok('add_annotation', { path: 'README.md', note: 'one line', start_line: 2 }))
          .structuredContent,
      );
      expect(single.lines).toEqual({ start: 2, end: 2 });

      const listed = AnnotationList.parse(
        (await ok('list_annotations', { path: 'src/a.ts' })).structuredContent,
      );
      expect(listed).toEqual(await admin.annotations({ path: 'src/a.ts' }));
      expect(listed.annotations.map((a) => a.id)).toEqual([added.id]);

      const resolved = Annotation.parse(
        (await ok('resolve_annotation', { annotation_id: added.id })).structuredContent,
      );
      expect(resolved).toMatchObject({ id: added.id, resolved: true, resolvedBy: AGENT });
      expect((await admin.annotations({ path: 'src/a.ts' })).annotations).toEqual([]);
      const all = AnnotationList.parse(
        (await ok('list_annotations', { path: 'src/a.ts', include_resolved: true })).structuredContent,
      );
      expect(all.annotations).toEqual([resolved]);
    });

    it('refuses an end_line without start_line, and an unknown id says how to find the right one', async () => {
      expect(await failed('add_annotation', { path: 'src/a.ts', note: 'x', end_line: 3 })).toContain(
        'end_line needs start_line',
      );
      expect(await failed('resolve_annotation', { annotation_id: 'ffffffffffffffff' })).toContain(
        'list_annotations',
      );
    });
  });

  describe('cancellation', () => {
    it('a cancelled call ends without a result and the server goes on serving', async () => {
      const ac = new AbortController();
      const call = mcp.call('search_files', { pattern: 'x' }, ac.signal);
      ac.abort();
      await expect(call).rejects.toThrow();
      const after = await ok('read_file', { path: 'README.md' });
      expect(readFileOutput.parse(after.structuredContent).text).toBe(WORKSPACE['README.md']);
    });
  });

  describe('path safety', () => {
    it("the bridge's own state is refused by read_file and in no listing, tree or search", async () => {
      for (const p of [`.lighthouse/keys/${AGENT}.key`, './.lighthouse//secret']) {
        const text = await failed('read_file', { path: p });
        expect(text).toContain("the bridge's own state");
        expect(text).not.toContain(STATE_KEY);
      }
      expect(await failed('write_file', { path: '.lighthouse/policy.json', content: '{}' })).toContain(
        "the bridge's own state",
      );
      const tree = treeOutput.parse((await ok('tree', { depth: 10, max_entries: 1000 })).structuredContent);
      expect(tree.entries.filter((e) => e.path.startsWith('.lighthouse'))).toEqual([]);
      const found = searchFilesOutput.parse(
        (await ok('search_files', { pattern: STATE_KEY })).structuredContent,
      );
      expect(found.matches).toEqual([]);
      // Recorded after the refusal is answered.
      await vi.waitFor(async () => {
        const security = await admin.query({ type: 'security.path_rejected', agent: AGENT, limit: 1000 });
        expect(security.events.map((e) => (e.data as { path: string }).path)).toContain(
          `.lighthouse/keys/${AGENT}.key`,
        );
      });
    });

    it('a path with ".." or an absolute path is an error about paths, recorded by the bridge', async () => {
      for (const [tool, args] of [
        ['read_file', { path: '../x' }],
        ['write_file', { path: '../x', content: 'escape' }],
        ['edit_file', { path: 'src/../../x', old_string: 'a', new_string: 'b' }],
        ['delete_file', { path: '/etc/passwd' }],
        ['move_file', { from: 'src/a.ts', to: '../a.ts' }],
        ['list_directory', { path: '..' }],
        ['tree', { path: '../..' }],
        ['search_files', { pattern: 'x', path: '../' }],
        ['add_annotation', { path: '../x', note: 'n' }],
      ] as const) {
        const text = await failed(tool, args);
        expect(text, tool).toContain('relative to the workspace root');
        expect(text, tool).toContain('no ".."');
      }
      expect(fs.existsSync(path.join(path.dirname(bridge.workspace), 'x'))).toBe(false);
      const security = await admin.query({ type: 'security.path_rejected', agent: AGENT });
      expect(security.events.length).toBeGreaterThanOrEqual(5);
    });
  });
});
