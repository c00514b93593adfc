import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BRIDGE_JS, startBridge, tempDir, type BridgeProcess } from '../../../helpers/bridge-process.js';

const running: BridgeProcess[] = [];
afterAll(async () => {
  for (const b of running) await b.stop();
});

describe('admin export and backup over HTTP', () => {
  it('an online export restores (offline, with `bridge.js import`) into an empty store with the same events', async () => {
    const a = await startBridge();
    running.push(a);
    const w = a.agent('author');
    const blob = await w.putBlob(Buffer.from('some file content'));
    for (let i = 0; i < 30; i++) await w.append({ events: [{ type: 'custom.e', data: { i } }] });
    const admin = a.admin();
    const original = (await admin.query({ limit: 10_000 })).events;
    const jsonl = await admin.exportJsonl();
    expect(original.length).toBeGreaterThan(30);

    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'in.jsonl'), jsonl);
    const r = spawnSync(
      process.execPath,
      [BRIDGE_JS, 'import', '--data-dir', path.join(dir, 'fresh'), '--from', path.join(dir, 'in.jsonl')],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const d = await startBridge({ dataDir: path.join(dir, 'fresh'), secret: a.secret });
    running.push(d);
    const restored = (await d.admin().query({ limit: original.length })).events;
    expect(restored).toEqual(original);
    expect((await d.admin().getBlob(blob.hash)).toString()).toBe('some file content');
  });

  it('makes an online backup under the data directory, refusing names with slashes', async () => {
    const a = await startBridge();
    running.push(a);
    await a.agent('x').append({ events: [{ type: 'custom.e' }] });
    const r = await a.admin().backup('nightly.db');
    expect(r.path).toBe(path.join(a.dataDir, 'backups', 'nightly.db'));
    expect(fs.statSync(r.path).size).toBe(r.bytes);
    await expect(a.admin().backup('../../etc/evil')).rejects.toMatchObject({ status: 400 });
  });

  it('only admin may export or back up', async () => {
    const a = await startBridge();
    running.push(a);
    await expect(a.agent('nosy').exportJsonl()).rejects.toMatchObject({ status: 403 });
    await expect(a.agent('nosy').backup()).rejects.toMatchObject({ status: 403 });
  });
});
