import { describe, expect, it } from 'vitest';
import { GitIgnore } from '../../../bridge-image/src/shadow/git-ignore.js';

const rulesOf = (files: Record<string, string>) =>
  new GitIgnore({ read: (rel) => (rel in files ? Buffer.from(files[rel]!) : undefined) });

describe('gitignore(5) matching', () => {
  const g = rulesOf({
    '.gitignore':
      '# build output\nnode_modules/\n/dist\n*.log\n!keep.log\ndocs/**/*.tmp\n**/cache\n\\#hash\n',
    'src/.gitignore': 'gen/\n!important.log\n/local.txt\n',
    '.git/info/exclude': 'secret.txt\n',
  });

  it('ignores .git and everything in it', () => {
    expect(g.ignored('.git', true)).toBe(true);
    expect(g.ignored('.git/objects/ab/cd', false)).toBe(true);
  });

  it('reads directory-only, anchored, negated, ** and escaped patterns as git does', () => {
    expect(g.ignored('node_modules', true)).toBe(true);
    expect(g.ignored('node_modules', false)).toBe(false); // a file of that name is not a directory
    expect(g.ignored('a/node_modules/x.js', false)).toBe(true);
    expect(g.ignored('dist', true)).toBe(true);
    expect(g.ignored('src/dist', true)).toBe(false); // anchored to the root
    expect(g.ignored('x/debug.log', false)).toBe(true);
    expect(g.ignored('keep.log', false)).toBe(false);
    expect(g.ignored('docs/a/b/c.tmp', false)).toBe(true);
    expect(g.ignored('docs/c.tmp', false)).toBe(true);
    expect(g.ignored('other/c.tmp', false)).toBe(false);
    expect(g.ignored('a/b/cache', false)).toBe(true);
    expect(g.ignored('#hash', false)).toBe(true);
    expect(g.ignored('secret.txt', false)).toBe(true);
    expect(g.ignored('README.md', false)).toBe(false);
  });

  it('applies nested .gitignore files relative to their directory, deeper ones last', () => {
    expect(g.ignored('src/gen/a.ts', false)).toBe(true);
    expect(g.ignored('src/important.log', false)).toBe(false);
    expect(g.ignored('src/local.txt', false)).toBe(true);
    expect(g.ignored('src/sub/local.txt', false)).toBe(false);
  });

  it('never brings back a path below an ignored directory', () => {
    const h = rulesOf({ '.gitignore': 'build/\n!build/keep.txt\n' });
    expect(h.ignored('build/keep.txt', false)).toBe(true);
  });

  it('reads the rules again after invalidate()', () => {
    const files: Record<string, string> = { '.gitignore': 'a.txt\n' };
    const h = rulesOf(files);
    expect(h.ignored('a.txt', false)).toBe(true);
    files['.gitignore'] = 'b.txt\n';
    h.invalidate();
    expect(h.ignored('a.txt', false)).toBe(false);
    expect(h.ignored('b.txt', false)).toBe(true);
  });
});
