import { describe, expect, it } from 'vitest';
import {
  compilePathPattern,
  globToRegExp,
  relativeInside,
  resolvePath,
} from '../../../bridge-image/src/validation/glob.js';

const ws = '/ws';
const home = '/home/u';
const matches = (pattern: string, p: string) => compilePathPattern(pattern).test(p, ws, home);

describe('globs', () => {
  it('compiles *, **, ?, classes and alternatives', () => {
    expect(globToRegExp('release/*').test('release/1.2')).toBe(true);
    expect(globToRegExp('release/*').test('release/1/2')).toBe(false);
    expect(globToRegExp('a/**/b').test('a/b')).toBe(true);
    expect(globToRegExp('a/**/b').test('a/x/y/b')).toBe(true);
    expect(globToRegExp('file?.[ch]').test('file1.c')).toBe(true);
    expect(globToRegExp('[!a]x').test('ax')).toBe(false);
    expect(globToRegExp('*.{ts,tsx}').test('a.tsx')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });

  it('anchors patterns with a slash at the workspace root', () => {
    expect(matches('.github/workflows/**', '/ws/.github/workflows/ci.yml')).toBe(true);
    expect(matches('.github/workflows/**', '/ws/sub/.github/workflows/ci.yml')).toBe(false);
    expect(matches('db/migrations', '/ws/db/migrations/001.sql')).toBe(true);
    expect(matches('./db/*.sql', '/ws/db/a.sql')).toBe(true);
  });

  it('matches slash-less patterns against any segment, like .gitignore', () => {
    expect(matches('package-lock.json', '/ws/a/b/package-lock.json')).toBe(true);
    expect(matches('secrets', '/ws/config/secrets/key')).toBe(true);
    expect(matches('*.pem', '/ws/x.pem')).toBe(true);
    expect(matches('*.pem', '/ws/x.pem.txt')).toBe(false);
  });

  it('matches absolute and home patterns, and everything below them', () => {
    expect(matches('/tmp', '/tmp/a/b')).toBe(true);
    expect(matches('/tmp', '/tmpx')).toBe(false);
    expect(matches('/tmp/**', '/tmp')).toBe(true);
    expect(matches('~/.cache', '/home/u/.cache/pip')).toBe(true);
    expect(matches('~/.cache', '/home/v/.cache')).toBe(false);
  });

  it('resolves paths and tells inside from outside', () => {
    expect(resolvePath('a/../b', '/ws')).toBe('/ws/b');
    expect(resolvePath('/x/./y/', null)).toBe('/x/y');
    expect(resolvePath('rel', null)).toBeNull();
    expect(relativeInside('/ws', '/ws')).toBe('');
    expect(relativeInside('/ws', '/ws/a')).toBe('a');
    expect(relativeInside('/ws', '/wsx')).toBeNull();
  });
});
