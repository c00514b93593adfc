import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BRIDGE_JS, bridgesKilledAfterEach, tempDir } from '../../helpers/bridge-process.js';

const start = bridgesKilledAfterEach();
const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('the event store is private to the bridge user', () => {
  it('makes the data directory 0700 and the database, its WAL, shared memory and backups 0600', async () => {
    const b = await start();
    await b.agent('a').writeFile('x.txt', 'content of an agent\n');
    const backup = await b.admin().backup('b1.db');
    const db = path.join(b.dataDir, 'events.db');
    expect(mode(b.dataDir)).toBe(0o700);
    expect([db, `${db}-wal`, `${db}-shm`].map(mode)).toEqual([0o600, 0o600, 0o600]);
    expect(mode(path.dirname(backup.path))).toBe(0o700);
    expect(mode(backup.path)).toBe(0o600);
  });

  it('tightens a store left world-readable by an older bridge, at start', async () => {
    const first = await start();
    await first.agent('a').writeFile('x.txt', 'y\n');
    await first.stop();
    const db = path.join(first.dataDir, 'events.db');
    fs.chmodSync(first.dataDir, 0o755);
    fs.chmodSync(db, 0o644);
    const again = await start({ dataDir: first.dataDir, secret: first.secret });
    await again.agent('a').status();
    expect(mode(first.dataDir)).toBe(0o700);
    expect([db, `${db}-wal`, `${db}-shm`].map(mode)).toEqual([0o600, 0o600, 0o600]);
  });

  it('writes `bridge.js export --out` 0600', async () => {
    const b = await start();
    await b.stop();
    const out = path.join(tempDir(), 'e.jsonl');
    execFileSync(process.execPath, [BRIDGE_JS, 'export', '--data-dir', b.dataDir, '--out', out]);
    expect(fs.readFileSync(out, 'utf8')).toContain('lighthouse-export');
    expect(mode(out)).toBe(0o600);
  });
});
