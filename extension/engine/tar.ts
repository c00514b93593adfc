/**
 * A minimal ustar archive writer: enough to hand the engine one small file (the master secret)
 * with the owner and mode it must have, through putArchive, without a command line or a bind mount.
 */
export interface TarEntry {
  name: string;
  type: 'file' | 'dir';
  mode: number;
  uid: number;
  gid: number;
  data?: Buffer;
  /** Seconds since the epoch; a fixed default keeps archives of the same files identical. */
  mtime?: number;
}

/** 2000-01-01T00:00:00Z */
const FIXED_MTIME = 946_684_800;

export function tarArchive(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(header(e, data.length));
    if (data.length) {
      parts.push(data);
      const pad = (512 - (data.length % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

function header(e: TarEntry, size: number): Buffer {
  const name = e.type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name;
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, e.mode);
  octal(h, 108, 8, e.uid);
  octal(h, 116, 8, e.gid);
  octal(h, 124, 12, size);
  octal(h, 136, 12, e.mtime ?? FIXED_MTIME);
  h.fill(' ', 148, 156); // the checksum counts its own field as spaces
  h.write(e.type === 'dir' ? '5' : '0', 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'binary');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'binary');
  return h;
}

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}
