import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GitIgnore, RULE_LIMITS } from '../../../bridge-image/src/shadow/git-ignore.js';
import { tempDir } from '../../helpers/temp-dirs.js';

/** Rule files by path; paths ending in '/' are directories. */
interface Case {
  files: Record<string, string>;
  paths: string[];
}

const rulesOf = (files: Record<string, string>, reports: string[] = []) =>
  new GitIgnore({
    read: (rel) => (rel in files ? Buffer.from(files[rel]!) : undefined),
    report: (rel, what) => reports.push(`${rel}: ${what}`),
  });

/**
 * What `git check-ignore` says of each path, in a real repository holding the files and paths: by
 * path, whether it is a directory there and whether git ignores it.
 */
function gitSays(c: Case): Map<string, { dir: boolean; ignored: boolean }> {
  const root = tempDir('lh-gitignore-');
  execFileSync('git', ['init', '-q', root]);
  const made = new Set<string>();
  for (const p of c.paths) {
    const abs = path.join(root, p);
    try {
      if (p.endsWith('/')) fs.mkdirSync(abs, { recursive: true });
      else {
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, '');
      }
      made.add(p);
    } catch {
      // a file where a directory was asked for (or the other way): not asked about
    }
  }
  for (const [rel, text] of Object.entries(c.files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  const asked = [...made].map((p) => p.replace(/\/$/, '')).filter((p) => !(p in c.files));
  let out = '';
  try {
    out = execFileSync('git', ['check-ignore', '--no-index', '--stdin', '-z'], {
      cwd: root,
      input: asked.join('\0'),
      encoding: 'utf8',
    });
  } catch (e) {
    // Exit 1: nothing ignored.
    if ((e as { status?: number }).status !== 1) throw e;
  }
  const ignored = new Set(out.split('\0'));
  const dirs = new Set(asked.filter((p) => fs.statSync(path.join(root, p)).isDirectory()));
  fs.rmSync(root, { recursive: true, force: true });
  return new Map(asked.map((p) => [p, { dir: dirs.has(p), ignored: ignored.has(p) }]));
}

/** The matcher's answers for the paths git could be asked about, compared with git's. */
function compare(c: Case): void {
  const g = rulesOf(c.files);
  for (const [p, want] of gitSays(c)) {
    const got = g.ignored(p, want.dir);
    expect({ path: p, ignored: got }, JSON.stringify(c.files)).toEqual({ path: p, ignored: want.ignored });
  }
}

const CORPUS: Case[] = [
  { files: { '.gitignore': '*.log\n' }, paths: ['a.log', 'd/b.log', 'a.logx', 'log', 'd.log/', 'd.log/x'] },
  { files: { '.gitignore': '/build\n' }, paths: ['build', 'src/build', 'build2', 'src/build/x'] },
  {
    files: { '.gitignore': 'build/\n' },
    paths: ['build/', 'build/x', 'src/build/', 'src/build/y', 'f/build'],
  },
  { files: { '.gitignore': 'build/\n!build/keep.txt\n' }, paths: ['build/keep.txt', 'build/other'] },
  { files: { '.gitignore': '*.log\n!keep.log\n' }, paths: ['keep.log', 'x.log', 'd/keep.log'] },
  { files: { '.gitignore': 'docs/**/*.tmp\n' }, paths: ['docs/a.tmp', 'docs/x/y/b.tmp', 'other/docs/a.tmp'] },
  {
    files: { '.gitignore': '**/cache\n' },
    paths: ['cache', 'a/cache', 'a/b/cache/', 'a/b/cache/z', 'cachex'],
  },
  { files: { '.gitignore': 'a/**\n' }, paths: ['a/', 'a/b', 'a/b/c/d', 'ab/c'] },
  { files: { '.gitignore': 'a/**/b\n' }, paths: ['a/b', 'a/x/b', 'a/x/y/b', 'a/xb', 'x/a/b'] },
  { files: { '.gitignore': '**\n' }, paths: ['x', 'a/b/c'] },
  { files: { '.gitignore': '**/\n' }, paths: ['x', 'd/', 'd/y'] },
  { files: { '.gitignore': 'a/**/**/b\n' }, paths: ['a/b', 'a/x/b', 'a/x/y/z/b'] },
  { files: { '.gitignore': '?.txt\n' }, paths: ['a.txt', 'ab.txt', 'd/c.txt', '.txt'] },
  { files: { '.gitignore': '[abc].md\n' }, paths: ['a.md', 'd.md', 'c.md'] },
  { files: { '.gitignore': '[!abc].md\n' }, paths: ['a.md', 'd.md', 'z.md'] },
  { files: { '.gitignore': '[^abc].md\n' }, paths: ['a.md', 'd.md'] },
  { files: { '.gitignore': '[a-c]x\n' }, paths: ['ax', 'bx', 'dx', '-x'] },
  { files: { '.gitignore': '[]a]x\n' }, paths: [']x', 'ax', 'bx'] },
  { files: { '.gitignore': '[[:digit:]]*\n' }, paths: ['1abc', 'abc', '9'] },
  { files: { '.gitignore': '[[:alpha:]][[:upper:]]\n' }, paths: ['aB', 'ab', '1B'] },
  { files: { '.gitignore': 'a[\n' }, paths: ['a[', 'a'] },
  { files: { '.gitignore': '\\#hash\n#comment\n' }, paths: ['#hash', '#comment', 'comment'] },
  { files: { '.gitignore': '\\!bang\n' }, paths: ['!bang', 'bang'] },
  { files: { '.gitignore': 'trailing   \n' }, paths: ['trailing', 'trailing   '] },
  { files: { '.gitignore': 'esc\\ \n' }, paths: ['esc ', 'esc'] },
  { files: { '.gitignore': '\\*star\n' }, paths: ['*star', 'xstar'] },
  { files: { '.gitignore': 'a\\\n' }, paths: ['a', 'a\\'] },
  { files: { '.gitignore': '*\n!*/\n!*.c\n' }, paths: ['x.c', 'x.h', 'd/', 'd/y.c', 'd/y.h'] },
  { files: { '.gitignore': '/*\n!/src\n' }, paths: ['a', 'src/', 'src/x', 'other/', 'other/y'] },
  { files: { '.gitignore': 'src/*.o\n' }, paths: ['src/a.o', 'src/sub/b.o', 'x/src/a.o'] },
  { files: { '.gitignore': 'd/\n', 'd/.gitignore': '!x\n' }, paths: ['d/x', 'd/y'] },
  {
    files: { '.gitignore': '*.gen\n', 'src/.gitignore': '!keep.gen\n/local.txt\n' },
    paths: ['src/keep.gen', 'src/a.gen', 'keep.gen', 'src/local.txt', 'src/sub/local.txt', 'local.txt'],
  },
  { files: { 'src/.gitignore': '/x/\n' }, paths: ['src/x/', 'src/x/f', 'src/y/x/', 'x/'] },
  { files: { 'a/b/.gitignore': '*\n!.gitignore\n' }, paths: ['a/b/c', 'a/c', 'a/b/d/'] },
  {
    files: { '.gitignore': 'node_modules/\n' },
    paths: ['node_modules', 'x/node_modules/', 'x/node_modules/p'],
  },
  { files: { '.gitignore': '.*\n!.gitignore\n' }, paths: ['.env', '.cache/', '.cache/x', 'env'] },
  { files: { '.gitignore': '*~\n.#*\n' }, paths: ['a~', '.#lock', 'a#'] },
  { files: { '.gitignore': '*.py[cod]\n' }, paths: ['a.pyc', 'a.pyo', 'a.py', 'a.pyx'] },
  { files: { '.gitignore': 'a*b*c\n' }, paths: ['abc', 'aXbYc', 'acb', 'a/b/c'] },
  { files: { '.gitignore': 'foo/bar\n' }, paths: ['foo/bar', 'x/foo/bar', 'foo/bar/baz'] },
  { files: { '.gitignore': '/foo/bar/\n' }, paths: ['foo/bar/', 'foo/bar/x', 'foo/bar2/'] },
  { files: { '.gitignore': 'foo**bar\n' }, paths: ['foobar', 'fooxbar', 'foo/bar'] },
  { files: { '.gitignore': '***\n' }, paths: ['a', 'a/b'] },
  { files: { '.gitignore': 'x/**/\n' }, paths: ['x/', 'x/a', 'x/d/', 'x/d/e'] },
  { files: { '.gitignore': '\r\n*.win\r\n' }, paths: ['a.win', 'a.win\r'] },
  { files: { '.gitignore': '!\n/\n//\n' }, paths: ['a', '!'] },
  { files: { '.gitignore': '[a-]x\n' }, paths: ['ax', '-x', 'bx'] },
  { files: { '.gitignore': '[\\]]y\n' }, paths: [']y', '\\y'] },
  { files: { '.gitignore': '[[:bogus:]]z\n' }, paths: ['az'] },
  { files: { '.git/info/exclude': 'secret\n', '.gitignore': '!secret\n' }, paths: ['secret', 'd/secret'] },
  { files: { '.git/info/exclude': '*.bak\n' }, paths: ['x.bak', 'd/y.bak', 'x.ba'] },
];

describe('the gitignore matcher agrees with git check-ignore', () => {
  it('on a hand-written corpus of patterns and paths', () => {
    let pairs = 0;
    for (const c of CORPUS) {
      compare(c);
      pairs += c.paths.length;
    }
    expect(pairs).toBeGreaterThanOrEqual(150);
  });

  const ALPHABET = ['a', 'b', '.', '*', '**', '?', '[', ']', '!', '^', '-', '/', '\\', ' ', '#', '[:alpha:]'];
  const pattern = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 8 }).map((a) => a.join(''));
  const segment = fc.array(fc.constantFrom('a', 'b', '.', 'ab', '-', ']', '!', 'x'), {
    minLength: 1,
    maxLength: 3,
  });
  const filePath = fc
    .array(
      segment.map((s) => s.join('')),
      { minLength: 1, maxLength: 4 },
    )
    .map((s) => s.join('/'))
    .filter((p) => !p.split('/').some((s) => s === '.' || s === '..' || s === '.git'));

  it('on random patterns and paths', () => {
    fc.assert(
      fc.property(
        fc.array(pattern, { minLength: 1, maxLength: 5 }),
        fc.uniqueArray(filePath, { minLength: 1, maxLength: 10 }),
        (lines, paths) => compare({ files: { '.gitignore': lines.join('\n') + '\n' }, paths }),
      ),
      { numRuns: 150, seed: 20261124 },
    );
  });
});

describe('the gitignore matcher is bounded', () => {
  it('answers patterns that backtracking would take years for, quickly and correctly', () => {
    const g = rulesOf({ '.gitignore': `${'a*'.repeat(40)}b\n${'**/'.repeat(500)}z\n` });
    expect(g.ignored('a'.repeat(200), false)).toBe(false);
    expect(g.ignored(`${'a'.repeat(200)}b`, false)).toBe(true);
    expect(g.ignored(`${'d/'.repeat(100)}z`, false)).toBe(true);
    expect(g.ignored(`${'d/'.repeat(100)}y`, false)).toBe(false);
  });

  it('reads a 10 MB .gitignore only up to its limits, and says so', () => {
    const reports: string[] = [];
    const line = (i: number) => `pattern-${i}-${'x'.repeat(80)}\n`;
    let text = '';
    for (let i = 0; text.length < 10 * 1024 * 1024; i++) text += line(i);
    const g = rulesOf({ '.gitignore': text + 'last-line\n' }, reports);
    expect(g.ignored(`pattern-0-${'x'.repeat(80)}`, false)).toBe(true);
    expect(g.ignored(`pattern-${RULE_LIMITS.rules - 1}-${'x'.repeat(80)}`, false)).toBe(true);
    // Past the limits: left out.
    expect(g.ignored(`pattern-${RULE_LIMITS.rules}-${'x'.repeat(80)}`, false)).toBe(false);
    expect(g.ignored('last-line', false)).toBe(false);
    expect(reports.join('\n')).toMatch(/\.gitignore: \d+ bytes: only the first 1048576 are read/);
    expect(reports.join('\n')).toMatch(/\.gitignore: more than 10000 rules/);
  });

  it('leaves out a pattern longer than the limit, and says so', () => {
    const reports: string[] = [];
    const long = 'q'.repeat(RULE_LIMITS.patternLength + 1);
    const g = rulesOf({ '.gitignore': `${long}\nshort\n` }, reports);
    expect(g.ignored(long, false)).toBe(false);
    expect(g.ignored('short', false)).toBe(true);
    expect(reports).toEqual([
      `.gitignore: 1 patterns longer than ${RULE_LIMITS.patternLength} characters left out`,
    ]);
  });

  it('reads each rule file once while a source asks about the rule file itself (no recursion)', () => {
    // The private layer decides where a .gitignore is read from by asking whether it is ignored:
    // asking its own directory's rules again must not read it again (that recursed to a stack
    // overflow, where V8 aborts compiling a regular expression).
    let reads = 0;
    const g: GitIgnore = new GitIgnore({
      read: (rel) => {
        reads++;
        if (reads > 10) throw new Error(`read ${rel} ${reads} times`);
        g.ignored(rel, false);
        return Buffer.from('*.o\n');
      },
    });
    expect(g.ignored('d/x.o', false)).toBe(true);
    expect(g.ignored('d/x.c', false)).toBe(false);
    expect(reads).toBe(3); // .gitignore, d/.gitignore, .git/info/exclude
  });

  it('reads again only the rule files at or below a directory invalidated', () => {
    const files: Record<string, string> = { '.gitignore': 'a\n', 'd/.gitignore': 'b\n' };
    const read: string[] = [];
    const g = new GitIgnore({
      read: (rel) => {
        read.push(rel);
        return rel in files ? Buffer.from(files[rel]!) : undefined;
      },
    });
    expect(g.ignored('d/b', false)).toBe(true);
    read.length = 0;
    files['d/.gitignore'] = 'c\n';
    g.invalidate('d');
    expect(g.ignored('d/b', false)).toBe(false);
    expect(g.ignored('d/c', false)).toBe(true);
    expect(g.ignored('a', false)).toBe(true);
    expect(read).toEqual(['d/.gitignore']);
  });
});
