/**
 * The archive the master secret travels in: GNU tar must read it back with the owners, modes and
 * bytes it was given (the engine's putArchive reads the same ustar format).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tarArchive, type TarEntry } from '../../../extension/engine/tar.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lh-ext-tar-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const isRoot = process.getuid?.() === 0;

function writeArchive(name: string, entries: TarEntry[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, tarArchive(entries));
  return file;
}

/** `tar -tv` lines as [mode string, uid/gid, size, name]. */
function listing(file: string): string[][] {
  const out = execFileSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((l) => {
      const f = l.split(/\s+/);
      return [f[0]!, f[1]!, f[2]!, f.slice(5).join(' ')];
    });
}

const big = randomBytes(1300); // spans three 512-byte blocks, the last one padded
const secretEntries: TarEntry[] = [
  { name: 'etc', type: 'dir', mode: 0o755, uid: 0, gid: 0 },
  { name: 'etc/lighthouse', type: 'dir', mode: 0o750, uid: 1000, gid: 1000 },
  {
    name: 'etc/lighthouse/secret',
    type: 'file',
    mode: 0o400,
    uid: 1000,
    gid: 1000,
    data: Buffer.from('ab'.repeat(32)),
  },
  { name: 'etc/lighthouse/big.bin', type: 'file', mode: 0o644, uid: 1000, gid: 1001, data: big },
  { name: 'etc/lighthouse/empty', type: 'file', mode: 0o600, uid: 0, gid: 0 },
];

describe('tarArchive', () => {
  it('is listed by GNU tar with the modes, owners and sizes given', () => {
    expect(listing(writeArchive('secret.tar', secretEntries))).toEqual([
      ['drwxr-xr-x', '0/0', '0', 'etc/'],
      ['drwxr-x---', '1000/1000', '0', 'etc/lighthouse/'],
      ['-r--------', '1000/1000', '64', 'etc/lighthouse/secret'],
      ['-rw-r--r--', '1000/1001', '1300', 'etc/lighthouse/big.bin'],
      ['-rw-------', '0/0', '0', 'etc/lighthouse/empty'],
    ]);
  });

  it('is a whole number of 512-byte blocks, ending with two empty ones', () => {
    const tar = tarArchive(secretEntries);
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(-1024).every((b) => b === 0)).toBe(true);
  });

  it.skipIf(!isRoot)('extracts to the same bytes, modes and owners', () => {
    const file = writeArchive('roundtrip.tar', secretEntries);
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    execFileSync('tar', ['--same-owner', '--same-permissions', '-xf', file, '-C', out]);
    const st = (p: string) => fs.statSync(path.join(out, p));
    expect(fs.readFileSync(path.join(out, 'etc/lighthouse/secret'), 'utf8')).toBe('ab'.repeat(32));
    expect(fs.readFileSync(path.join(out, 'etc/lighthouse/big.bin')).equals(big)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'etc/lighthouse/empty')).length).toBe(0);
    expect([st('etc/lighthouse/secret').mode & 0o7777, st('etc/lighthouse/secret').uid]).toEqual([
      0o400, 1000,
    ]);
    expect([st('etc/lighthouse/big.bin').uid, st('etc/lighthouse/big.bin').gid]).toEqual([1000, 1001]);
    expect(st('etc/lighthouse').mode & 0o7777).toBe(0o750);
  });

  it('extracts contents through a pipe, unprivileged too', () => {
    const tar = tarArchive([
      { name: 'a.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, data: Buffer.from('héllo\n') },
      { name: 'b.bin', type: 'file', mode: 0o644, uid: 0, gid: 0, data: big },
    ]);
    expect(execFileSync('tar', ['-xOf', '-', 'a.txt'], { input: tar }).toString()).toBe('héllo\n');
    expect(execFileSync('tar', ['-xOf', '-', 'b.bin'], { input: tar }).equals(big)).toBe(true);
  });

  it('takes a name of exactly 100 bytes and refuses a longer one', () => {
    const name = `${'d'.repeat(49)}/${'f'.repeat(50)}`;
    expect(Buffer.byteLength(name)).toBe(100);
    const file = writeArchive('long.tar', [
      { name, type: 'file', mode: 0o644, uid: 0, gid: 0, data: Buffer.from('x') },
    ]);
    expect(listing(file).map((l) => l[3])).toEqual([name]);
    expect(() => tarArchive([{ name: `${name}x`, type: 'file', mode: 0o644, uid: 0, gid: 0 }])).toThrow(
      `tar: name too long: ${name}x`,
    );
  });
});
