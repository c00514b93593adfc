import { describe, expect, it } from 'vitest';
import { fileOps } from '../../../bridge-image/src/validation/file-ops.js';
import { analyzeShell } from '../../../bridge-image/src/validation/shell-analysis.js';

const ops = (src: string) =>
  analyzeShell(src, { cwd: '/ws', home: '/home/u' })
    .commands.flatMap(fileOps)
    .map((o) => `${o.access} ${o.path ?? `?${o.raw}`}${o.recursive ? ' -r' : ''}`);

describe('file operations', () => {
  it('reads redirections', () => {
    expect(ops('a < in > out 2>> err &> all 2>&1 >&2 3<> rw')).toEqual([
      'read /ws/in',
      'write /ws/out',
      'write /ws/err',
      'write /ws/all',
      'read /ws/rw',
      'write /ws/rw',
    ]);
  });

  it('knows copy-like commands: sources and destination', () => {
    expect(ops('cp -r a b /dst')).toEqual(['read /ws/a -r', 'read /ws/b -r', 'write /dst -r']);
    expect(ops('mv -t /dst a')).toEqual(['delete /ws/a', 'write /dst']);
    expect(ops('cp only')).toEqual(['read /ws/only']);
    expect(ops('rsync -a src/ host:/x')).toEqual(['read /ws/src -r']);
    expect(ops('scp host:/x local')).toEqual(['write /ws/local']);
  });

  it('knows deleting and modifying commands', () => {
    expect(ops('rm -rf a; rmdir b; unlink c')).toEqual(['delete /ws/a -r', 'delete /ws/b', 'delete /ws/c']);
    expect(ops('touch a; mkdir -m 700 b; truncate -s 0 c')).toEqual([
      'write /ws/a',
      'write /ws/b',
      'write /ws/c',
    ]);
    expect(ops('chmod -R 755 d; chown u:g f; chmod -w g')).toEqual([
      'write /ws/d -r',
      'write /ws/f',
      'write /ws/g',
    ]);
    expect(ops('tee -a x y')).toEqual(['write /ws/x', 'write /ws/y']);
    expect(ops('dd if=/dev/zero of=disk.img')).toEqual(['read /dev/zero', 'write /ws/disk.img']);
  });

  it('tells sed -i from plain sed, and finds the script', () => {
    expect(ops("sed -i 's/a/b/' f")).toEqual(['write /ws/f']);
    expect(ops("sed -n 's/a/b/p' f")).toEqual(['read /ws/f']);
    expect(ops("sed -e 's/a/b/' -i.bak f g")).toEqual(['write /ws/f', 'write /ws/g']);
    expect(ops("sed -i '' 's/a/b/' f")).toEqual(['write /ws/f']);
  });

  it('skips the pattern of grep-like tools and the program of awk and jq', () => {
    expect(ops('grep -r .env src')).toEqual(['read /ws/src -r']);
    expect(ops('grep -e x -f pats a')).toEqual(['read /ws/a']);
    expect(ops("awk '{print}' a")).toEqual(['read /ws/a']);
    expect(ops('jq . a.json --rawfile k .env --arg n v')).toEqual(['read /ws/.env', 'read /ws/a.json']);
    expect(ops('head -n 5 a')).toEqual(['read /ws/a']);
  });

  it('finds the files curl and wget send or save', () => {
    expect(ops('curl -d @body.json -F f=@up.bin -T put.txt -o out https://x')).toEqual([
      'write /ws/out',
      'read /ws/body.json',
      'read /ws/up.bin',
      'read /ws/put.txt',
    ]);
    expect(ops('curl -d a=b --data-urlencode k@v.txt https://x')).toEqual(['read /ws/v.txt']);
    expect(ops('wget -O - https://x; wget --post-file=p.txt -P dl https://y')).toEqual([
      'write /ws/dl',
      'read /ws/p.txt',
    ]);
  });

  it('reads tar, zip and unzip', () => {
    expect(ops('tar czf out.tgz dir')).toEqual(['write /ws/out.tgz', 'read /ws/dir -r']);
    expect(ops('tar -xf a.tar -C /opt')).toEqual(['read /ws/a.tar', 'write /opt -r']);
    expect(ops('unzip a.zip -d out')).toEqual(['write /ws/out -r', 'read /ws/a.zip']);
  });

  it('leaves paths that depend on unknown values unresolved', () => {
    expect(ops('rm "$X"; cd "$Y" && rm z')).toEqual(['delete ?$X', 'delete ?z']);
  });

  it('counts xargs -a as a read', () => {
    expect(ops('xargs -a list.txt rm')).toEqual(['read /ws/list.txt']);
  });
});
