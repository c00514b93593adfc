import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BridgeError } from '../../../bridge-image/protocol/index.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

// In the container the bridge runs as uid 1000; a project file only its owner may read must give
// the agent an answer it can act on, not "internal error".
const UID = 1000;
let b: BridgeProcess;
let ws: string;

beforeAll(async () => {
  ws = path.join(tempDir('lh-perm-'), 'ws');
  fs.mkdirSync(path.join(ws, 'private'), { recursive: true });
  fs.chmodSync(path.dirname(ws), 0o755);
  fs.writeFileSync(path.join(ws, 'open.txt'), 'anyone may read this\n');
  fs.writeFileSync(path.join(ws, 'secret.txt'), 'owner only\n', { mode: 0o600 });
  fs.writeFileSync(path.join(ws, 'private', 'inner.txt'), 'behind a closed directory\n');
  fs.chmodSync(path.join(ws, 'private'), 0o700);
  b = await startBridge({ workspace: ws, uid: UID });
});
afterAll(async () => {
  await b?.stop();
});

it('a workspace file the bridge may not read is refused with 403 naming the file and the fix', async () => {
  const agent = b.agent('reader');
  expect((await agent.readFile('open.txt')).toString()).toBe('anyone may read this\n');
  const err = await agent.readFile('secret.txt').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BridgeError);
  expect((err as BridgeError).status).toBe(403);
  expect((err as BridgeError).message).toContain('secret.txt');
  expect((err as BridgeError).message).toContain(`uid ${UID}`);
  expect((err as BridgeError).message).toContain('chmod');
});

it('a directory the bridge may not enter is refused the same way, and the bridge keeps serving', async () => {
  const agent = b.agent('reader2');
  const err = await agent.readFile('private/inner.txt').catch((e: unknown) => e);
  expect((err as BridgeError).status).toBe(403);
  expect((err as BridgeError).message).toContain('private');
  expect((await agent.readFile('open.txt')).toString()).toBe('anyone may read this\n');
  expect(b.stderr()).toContain('workspace not readable');
  expect(b.stderr()).not.toContain('"request failed"');
});
