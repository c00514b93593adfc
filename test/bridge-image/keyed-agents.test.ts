/**
 * A new agent's shadow is there from its key on: `bridge.js key` on a running bridge, a key file
 * found at start, or the developer's admin call (the extension's Connect Claude Code). Before,
 * shadows/<agent>/ answered ENOENT until the agent opened its first session.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE_JS, startBridge, tempDir, type BridgeProcess } from '../helpers/bridge-process.js';

let b: BridgeProcess;
let mnt: string;
beforeAll(async () => {
  const dir = tempDir();
  const ws = path.join(dir, 'ws');
  fs.mkdirSync(ws);
  fs.writeFileSync(path.join(ws, 'README.md'), '# project\n');
  mnt = path.join(dir, 'mnt');
  b = await startBridge({ workspace: ws, fuseMount: mnt, keys: ['keyed-before'] });
  expect((await b.admin().ready()).fuse.mounted).toBe(true);
});
afterAll(async () => {
  await b.stop();
});

const known = async (id: string) => (await b.admin().listAgents()).agents.some((a) => a.agentId === id);

describe("an agent's shadow from its key on", () => {
  it('`bridge.js key` on a running bridge: the shadow is writable through the mount at once', async () => {
    expect(await known('newbie')).toBe(false);
    expect(fs.existsSync(path.join(mnt, 'shadows', 'newbie'))).toBe(false);
    const r = spawnSync(
      process.execPath,
      [BRIDGE_JS, 'key', 'newbie', '--secret-file', b.secretFile, '--port', String(b.port)],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('the running bridge knows newbie now');
    expect(fs.readdirSync(path.join(mnt, 'shadows'))).toContain('newbie');
    fs.writeFileSync(path.join(mnt, 'shadows', 'newbie', 'hello.txt'), 'hi\n');
    const changes = (await b.admin().changes({ agent: 'newbie' })).changes;
    expect(changes.map((c) => [c.path, c.status])).toEqual([['hello.txt', 'added']]);
    const agent = (await b.admin().listAgents()).agents.find((a) => a.agentId === 'newbie');
    expect(agent?.sessions).toBe(0);
  });

  it('a key file made while the bridge was down is known at start', async () => {
    expect(await known('keyed-before')).toBe(true);
    expect(fs.readFileSync(path.join(mnt, 'shadows', 'keyed-before', 'README.md'), 'utf8')).toBe(
      '# project\n',
    );
  });

  it('the admin call adds an agent once; agents may not, and reserved ids are refused', async () => {
    await b.admin().addAgent('from-vscode');
    await b.admin().addAgent('from-vscode');
    const added = await b.admin().query({ type: 'agent.added', agent: 'from-vscode' });
    expect(added.events).toHaveLength(1);
    expect(fs.existsSync(path.join(mnt, 'shadows', 'from-vscode'))).toBe(true);
    await expect(b.agent('intruder').addAgent('someone')).rejects.toMatchObject({ status: 403 });
    await expect(b.admin().addAgent('bridge')).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('reserved'),
    });
    await expect(b.admin().addAgent('../x')).rejects.toMatchObject({ status: 400 });
  });
});
