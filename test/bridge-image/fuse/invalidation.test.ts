import { describe, expect, it } from 'vitest';
import {
  invalEntryMessage,
  invalInodeMessage,
  messages,
  pathsToProbe,
  Targets,
} from '../../../bridge-image/src/fuse/invalidation.js';

describe('FUSE notify messages', () => {
  it('lays out FUSE_NOTIFY_INVAL_INODE as the kernel reads it', () => {
    const m = invalInodeMessage(0x1_0000_0002);
    // struct fuse_out_header (16 bytes) + struct fuse_notify_inval_inode_out (24 bytes).
    expect(m.length).toBe(40);
    expect(m.readUInt32LE(0)).toBe(40);
    expect(m.readInt32LE(4)).toBe(2); // FUSE_NOTIFY_INVAL_INODE, in the error field
    expect(m.readBigUInt64LE(8)).toBe(0n); // unique 0: a notification, not a reply
    expect(m.readBigUInt64LE(16)).toBe(0x1_0000_0002n);
    expect(m.readBigInt64LE(24)).toBe(0n);
    expect(m.readBigInt64LE(32)).toBe(0n);
  });

  it('lays out FUSE_NOTIFY_INVAL_ENTRY with the name and its NUL', () => {
    const m = invalEntryMessage(7, 'näme.txt');
    const name = Buffer.from('näme.txt');
    expect(m.length).toBe(16 + 16 + name.length + 1);
    expect(m.readUInt32LE(0)).toBe(m.length);
    expect(m.readInt32LE(4)).toBe(3); // FUSE_NOTIFY_INVAL_ENTRY
    expect(m.readBigUInt64LE(16)).toBe(7n);
    expect(m.readUInt32LE(24)).toBe(name.length);
    expect(m.subarray(32, 32 + name.length).equals(name)).toBe(true);
    expect(m[m.length - 1]).toBe(0);
  });

  it('names the root as node 1 and asks for the other parents and nodes', () => {
    const t = new Targets();
    t.changed('/shadows/a/src/x.ts');
    t.entries.add('/context');
    expect(pathsToProbe(t).sort()).toEqual(['/shadows/a/src', '/shadows/a/src/x.ts']);
    const inos = new Map<string, number | null>([
      ['/shadows/a/src', 40],
      ['/shadows/a/src/x.ts', 41],
    ]);
    const out = messages(t, inos);
    expect(out.map((m) => m.readInt32LE(4))).toEqual([2, 3, 3]);
    expect(out[0]!.readBigUInt64LE(16)).toBe(41n);
    expect(out[1]!.readBigUInt64LE(16)).toBe(40n);
    expect(out[2]!.readBigUInt64LE(16)).toBe(1n);
    expect(out[2]!.subarray(32, 39).toString()).toBe('context');
    // Nothing cached for a path the kernel does not know: no message for it.
    expect(messages(t, new Map([['/shadows/a/src', null]]))).toHaveLength(1);
    expect(messages(t, inos, 'inodes')).toHaveLength(1);
  });
});
