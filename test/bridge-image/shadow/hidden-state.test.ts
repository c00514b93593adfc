import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  BridgeClient,
  deriveAdminKey,
  deriveAgentKey,
  type BridgeError,
} from '../../../bridge-image/protocol/index.js';
import { BRIDGE_JS, startBridge, tempDir } from '../../helpers/bridge-process.js';

/**
 * The bridge's own state (master secret, agent keys, store, FUSE mount, policy) lives in
 * ./.lighthouse/ of the workspace in native mode, which is what `npm start` runs. No agent may see or
 * change any of it, through any route or any part of the mount.
 */
const fuseAvailable = fs.existsSync('/dev/fuse') && process.getuid?.() === 0;

interface Native {
  url: string;
  proc: ChildProcess;
  secret: Buffer;
  log: () => string;
}

/** `bridge.js --native --port 0` in `cwd`, as a developer starts it; resolves once it says it is ready. */
async function startNative(cwd: string, args: string[] = []): Promise<Native> {
  const logFile = path.join(path.dirname(cwd), `${path.basename(cwd)}.log`);
  const logFd = fs.openSync(logFile, 'a');
  // The log goes to a file: a test blocked on the mount must not leave the bridge blocked on a pipe.
  const proc = spawn(process.execPath, [BRIDGE_JS, '--native', '--port', '0', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', logFd],
  });
  fs.closeSync(logFd);
  const log = () => fs.readFileSync(logFile, 'utf8');
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /bridge ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m && out.includes('Stop with Ctrl-C')) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`native bridge exited ${code}: ${log()}`)));
  });
  const secret = Buffer.from(fs.readFileSync(path.join(cwd, '.lighthouse', 'secret'), 'utf8').trim(), 'hex');
  return { url, proc, secret, log };
}

const refusal = async (p: Promise<unknown>): Promise<BridgeError> => {
  const e = (await p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err,
  )) as BridgeError;
  return e;
};

describe('the bridge never shows or changes its own state (native mode)', () => {
  let ws: string;
  let b: Native;
  let agent: BridgeClient;
  let admin: BridgeClient;
  const mnt = () => path.join(ws, '.lighthouse', 'mnt');

  beforeAll(async () => {
    ws = path.join(tempDir(), 'project');
    fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'src', 'a.ts'), 'export const a = 1;\n');
    fs.mkdirSync(path.join(ws, '.lighthouse'));
    fs.writeFileSync(path.join(ws, '.lighthouse', 'policy.json'), '{}\n');
    // Symlinks a developer might have (or a tool made): each leads into the bridge's state.
    fs.symlinkSync('.lighthouse/secret', path.join(ws, 'leak'));
    fs.symlinkSync('.lighthouse/keys', path.join(ws, 'keyring'));
    fs.symlinkSync('.lighthouse', path.join(ws, 'state'));
    // The mount inside the workspace, where native mode kept it by default: named, so that it stays
    // there whatever the default becomes.
    b = await startNative(
      ws,
      fuseAvailable ? ['--fuse-mount', path.join(ws, '.lighthouse', 'mnt')] : ['--no-fuse'],
    );
    const opts = { baseUrl: b.url, timeoutMs: 10_000 };
    agent = new BridgeClient({
      ...opts,
      agentId: 'claude',
      role: 'agent',
      key: deriveAgentKey(b.secret, 'claude'),
    });
    admin = new BridgeClient({ ...opts, agentId: 'admin', role: 'admin', key: deriveAdminKey(b.secret) });
    await agent.registerAgent({ capabilities: [] });
    // The state really is there, next to the files agents work on.
    expect(fs.existsSync(path.join(ws, '.lighthouse', 'keys', 'claude.key'))).toBe(true);
    expect(fs.existsSync(path.join(ws, '.lighthouse', 'data', 'events.db'))).toBe(true);
  });
  afterAll(async () => {
    await agent?.close();
    await admin?.close();
    if (b && b.proc.exitCode === null) {
      b.proc.kill('SIGTERM');
      await new Promise((r) => b.proc.once('exit', r));
    }
  });

  it('refuses to read or stat the secret, the keys, the store and the policy, by any spelling, with 403', async () => {
    const secretText = fs.readFileSync(path.join(ws, '.lighthouse', 'secret'), 'utf8').trim();
    for (const p of [
      '.lighthouse/secret',
      './.lighthouse//keys/claude.key',
      '.lighthouse/data/events.db',
      '.lighthouse/policy.json',
      '.lighthouse',
      'leak',
      'keyring/claude.key',
      'state/secret',
    ]) {
      const read = await refusal(agent.readFile(p));
      expect(read, p).toMatchObject({ status: 403, code: 'path_rejected' });
      expect(read.message).not.toContain(secretText);
      expect(await refusal(agent.stat(p)), p).toMatchObject({ status: 403, code: 'path_rejected' });
      // Nor for the developer's own client: the state is in no view at all.
      expect(await refusal(admin.readFile(p, { agent: 'claude' })), p).toMatchObject({ status: 403 });
    }
    await expect(refusal(agent.list('.lighthouse'))).resolves.toMatchObject({ status: 403 });
    await expect(refusal(agent.list('state'))).resolves.toMatchObject({ status: 403 });
    // Security events are recorded after the refusal is answered.
    await vi.waitFor(async () => {
      const events = (await admin.query({ type: 'security.path_rejected', agent: 'claude', limit: 1000 }))
        .events;
      expect(events.map((e) => (e.data as { path: string }).path)).toEqual(
        expect.arrayContaining(['.lighthouse/secret', '.lighthouse/keys/claude.key', 'leak']),
      );
    });
  });

  it('lists neither .lighthouse nor the symlinks into it (list, tree and search walk these listings)', async () => {
    const names = (await agent.list('')).entries.map((e) => e.name);
    expect(names).toContain('src');
    for (const hidden of ['.lighthouse', 'leak', 'keyring', 'state']) expect(names).not.toContain(hidden);
    const adminNames = (await admin.list('', { agent: 'claude' })).entries.map((e) => e.name);
    expect(adminNames).not.toContain('.lighthouse');
  });

  it('refuses every change in .lighthouse (write, mkdir, move to or from, delete, apply, discard) with 403 and an event', async () => {
    const before = fs.readFileSync(path.join(ws, '.lighthouse', 'policy.json'), 'utf8');
    const tries: [string, () => Promise<unknown>][] = [
      ['.lighthouse/policy.json', () => agent.writeFile('.lighthouse/policy.json', '{"rules":[]}')],
      ['.lighthouse/keys/evil.key', () => agent.writeFile('./.lighthouse/keys/evil.key', 'x')],
      ['.lighthouse/extra', () => agent.mkdir('.lighthouse/extra')],
      // One name on a case-insensitive file system (macOS): refused everywhere.
      ['.LIGHTHOUSE/policy.json', () => agent.writeFile('.LIGHTHOUSE/policy.json', '{}')],
      ['.lighthouse/a.ts', () => agent.move('src/a.ts', '.lighthouse/a.ts')],
      ['.lighthouse/secret', () => agent.move('.lighthouse/secret', 'src/secret.txt')],
      ['.lighthouse/secret', () => agent.deleteFile('.lighthouse/secret')],
      ['.lighthouse', () => agent.rmdir('.lighthouse')],
      [
        '.lighthouse/policy.json',
        () => admin.applyShadow({ agentId: 'claude', paths: ['.lighthouse/policy.json'] }),
      ],
      [
        '.lighthouse/policy.json',
        () => admin.discardShadow({ agentId: 'claude', paths: ['.lighthouse/policy.json'] }),
      ],
    ];
    for (const [p, attempt] of tries) {
      const e = await refusal(attempt());
      expect(e, p).toMatchObject({ status: 403, code: 'path_rejected' });
      expect(e.message, p).toContain(p);
    }
    await vi.waitFor(async () => {
      const named = (await admin.query({ type: 'security.path_rejected', limit: 1000 })).events.map(
        (e) => (e.data as { path: string }).path,
      );
      expect(named).toEqual(
        expect.arrayContaining(['.lighthouse/policy.json', '.lighthouse/keys/evil.key', '.lighthouse/extra']),
      );
    });
    expect((await agent.changes()).changes).toEqual([]);
    expect(fs.readFileSync(path.join(ws, '.lighthouse', 'policy.json'), 'utf8')).toBe(before);
    // The move was refused, not half done.
    expect((await agent.readFile('src/a.ts')).toString()).toBe('export const a = 1;\n');
  });

  it.skipIf(!fuseAvailable)(
    'answers a read of its own mount (.lighthouse/mnt/streams, context) at once, while /health still answers',
    async () => {
      expect(fs.readdirSync(mnt()).sort()).toEqual(['context', 'current', 'history', 'shadows', 'streams']);
      // Before: a synchronous realpath on the bridge's own mount, which needs the bridge to answer.
      const reads = Promise.all(
        [
          '.lighthouse/mnt/streams/events.jsonl',
          '.lighthouse/mnt/context',
          '.lighthouse/mnt/current/src/a.ts',
        ].map((p) => refusal(agent.readFile(p))),
      );
      const health = admin.health();
      await expect(health).resolves.toMatchObject({ status: 'ok' });
      for (const e of await reads) expect(e).toMatchObject({ status: 403, code: 'path_rejected' });
    },
  );

  it.skipIf(!fuseAvailable)(
    'shows no .lighthouse in current/, shadows/ or history/ of the mount',
    async () => {
      await agent.writeFile('src/b.ts', 'export const b = 2;\n');
      const m = mnt();
      expect(fs.readdirSync(path.join(m, 'current')).sort()).toEqual(['src']);
      expect(fs.readdirSync(path.join(m, 'shadows', 'claude')).sort()).toEqual(['src']);
      const seq = (await agent.changes()).changes[0]!.seq;
      expect(fs.readdirSync(path.join(m, 'history', String(seq), 'claude')).sort()).toEqual(['src']);
      for (const p of [
        'current/.lighthouse/secret',
        'current/.lighthouse/keys/claude.key',
        'current/leak',
        'current/state/secret',
        'shadows/claude/.lighthouse/secret',
        'shadows/claude/.lighthouse/keys/claude.key',
        'shadows/claude/leak',
        `history/${seq}/claude/.lighthouse/secret`,
      ]) {
        await expect(fs.promises.readFile(path.join(m, p)), p).rejects.toMatchObject({
          code: expect.stringMatching(/^(ENOENT|EACCES)$/),
        });
      }
      await expect(fs.promises.readdir(path.join(m, 'current', '.lighthouse'))).rejects.toThrow();
      // Nor can anything be written there through the mount.
      await expect(
        fs.promises.writeFile(path.join(m, 'shadows', 'claude', '.lighthouse', 'policy.json'), '{}'),
      ).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOENT|EACCES)$/) });
      await expect(fs.promises.mkdir(path.join(m, 'shadows', 'claude', '.lighthouse'))).rejects.toMatchObject(
        {
          code: 'EACCES',
        },
      );
      expect((await agent.changes()).changes.map((c) => c.path)).toEqual(['src/b.ts']);
      expect(fs.readFileSync(path.join(m, 'current', 'src', 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
    },
  );
});

describe('overlay entries an older bridge stored in .lighthouse', () => {
  it('are in no listing, change list, diff or summary, and cannot be read, applied or discarded', async () => {
    const ws = path.join(tempDir(), 'ws');
    fs.mkdirSync(path.join(ws, '.lighthouse'), { recursive: true });
    fs.writeFileSync(path.join(ws, '.lighthouse', 'policy.json'), '{}\n');
    fs.writeFileSync(path.join(ws, 'README.md'), 'hi\n');
    // An export of a store in which the agent's shadow wrote into .lighthouse (as an older bridge let it).
    const old = await startBridge({ workspace: ws });
    const writer = old.agent('claude');
    await writer.writeFile('was/policy.json', '{"escalationDefault":"approve"}');
    await writer.writeFile('was/keys/claude.key', 'forged');
    await writer.writeFile('README.md', 'changed\n');
    const jsonl = (await old.admin().exportJsonl()).replaceAll('"was/', '".lighthouse/');
    await old.stop();
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'old.jsonl'), jsonl);
    const dataDir = path.join(dir, 'data');
    execFileSync(process.execPath, [
      BRIDGE_JS,
      'import',
      '--data-dir',
      dataDir,
      '--from',
      path.join(dir, 'old.jsonl'),
    ]);
    const b = await startBridge({ workspace: ws, dataDir });
    try {
      const agent = b.agent('claude');
      const admin = b.admin();
      expect((await agent.changes()).changes.map((c) => c.path)).toEqual(['README.md']);
      expect((await admin.changes({ agent: 'claude' })).changes.map((c) => c.path)).toEqual(['README.md']);
      expect((await agent.diff()).files.map((f) => f.path)).toEqual(['README.md']);
      expect((await admin.shadowSummary()).agents).toEqual([{ agentId: 'claude', changes: 1, conflicts: 0 }]);
      expect((await agent.list('')).entries.map((e) => e.name)).toEqual(['README.md']);
      for (const p of ['.lighthouse/policy.json', '.lighthouse/keys/claude.key']) {
        await expect(agent.readFile(p)).rejects.toMatchObject({ status: 403, code: 'path_rejected' });
        for (const settle of [admin.applyShadow, admin.discardShadow])
          await expect(settle.call(admin, { agentId: 'claude', paths: [p] })).rejects.toMatchObject({
            status: 403,
            code: 'path_rejected',
          });
      }
      await expect(admin.applyShadow({ agentId: 'claude', paths: ['.lighthouse'] })).rejects.toMatchObject({
        status: 403,
      });
      expect(fs.readFileSync(path.join(ws, '.lighthouse', 'policy.json'), 'utf8')).toBe('{}\n');
    } finally {
      await b.stop();
    }
  });
});
