import { describe, expect, it } from 'vitest';
import {
  braceExpand,
  expandWord,
  NON_EMPTY,
  type Scope,
} from '../../../bridge-image/src/validation/shell-expand.js';
import { lex, type Word } from '../../../bridge-image/src/validation/shell-lexer.js';

const word = (src: string): Word => {
  const t = lex(src).tokens[0];
  if (t?.kind !== 'word') throw new Error(`not a word: ${src}`);
  return t.word;
};
const scope = (vars: Record<string, string | null> = {}): Scope => ({
  vars: new Map(Object.entries(vars)),
  cwd: '/ws',
  home: '/home/u',
});
const noSubs = () => ({ commands: [], value: null });
const expand = (src: string, vars: Record<string, string | null> = {}) =>
  expandWord(word(src), scope(vars), noSubs);

describe('word expansion', () => {
  it('substitutes known variables, $PWD and $HOME', () => {
    expect(expand('"$A/$PWD/$HOME"', { A: 'a' })[0]).toMatchObject({ text: 'a//ws//home/u', exact: true });
  });

  it('keeps unknown parts as written and leaves them out of the worst case', () => {
    expect(expand('"$X/"')[0]).toMatchObject({ text: '$X/', exact: false, worst: '/' });
    expect(expand('"$(date)x"')[0]).toMatchObject({ text: '$(date)x', exact: false, worst: 'x' });
  });

  it('understands ${…} defaults, alternatives and required values', () => {
    expect(expand('${X:-/d}')[0]).toMatchObject({ exact: false, worst: '/d' });
    expect(expand('${X:-/d}', { X: 'v' })[0]).toMatchObject({ exact: true, text: 'v' });
    expect(expand('${X:-/d}', { X: '' })[0]).toMatchObject({ exact: true, text: '/d' });
    expect(expand('${X:+/a}')[0]).toMatchObject({ exact: false, worst: '/a' });
    expect(expand('${X:+/a}', { X: 'v' })[0]).toMatchObject({ exact: true, text: '/a' });
    expect(expand('"${X:?}/"')[0]).toMatchObject({ exact: false, worst: `${NON_EMPTY}/` });
    expect(expand('${X#pre}', { X: 'prefix' })[0]?.exact).toBe(false);
  });

  it('splits an unquoted variable into fields, and drops an empty one', () => {
    expect(expand('$A', { A: ' -r  / ' }).map((a) => a.text)).toEqual(['-r', '/']);
    expect(expand('"$A"', { A: '-r /' }).map((a) => a.text)).toEqual(['-r /']);
    expect(expand('$A', { A: '' })).toEqual([]);
  });

  it('marks quoting and unquoted globs', () => {
    expect(expand('*.ts')[0]).toMatchObject({ glob: true, quoted: false });
    expect(expand("'*.ts'")[0]).toMatchObject({ glob: false, quoted: true });
  });

  it('expands braces only when unquoted', () => {
    expect(expand('/{etc,usr}').map((a) => a.text)).toEqual(['/etc', '/usr']);
    expect(expand('"/{etc,usr}"').map((a) => a.text)).toEqual(['/{etc,usr}']);
  });

  it('collects the commands of substitutions', () => {
    const seen: string[] = [];
    const record = (_body: unknown, label: string) => {
      seen.push(label);
      return { commands: [], value: null };
    };
    expandWord(word('a$(b)'), scope(), record);
    expect(expandWord(word('<(c)'), scope(), record)[0]).toMatchObject({ procSub: true, exact: false });
    expect(seen).toEqual(['$(…)', '<(…)']);
  });
});

describe('brace expansion', () => {
  it('handles lists, nesting, empty alternatives and sequences', () => {
    expect(braceExpand('a{b,c{d,e}}f')).toEqual(['abf', 'acdf', 'acef']);
    expect(braceExpand('/{,}')).toEqual(['/', '/']);
    expect(braceExpand('x{1..3}')).toEqual(['x1', 'x2', 'x3']);
    expect(braceExpand('{c..a}')).toEqual(['c', 'b', 'a']);
    expect(braceExpand('{a}')).toEqual(['{a}']);
  });

  it('is capped', () => {
    expect(braceExpand('{1..100000}')).toHaveLength(64);
    expect(braceExpand('{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}')).toHaveLength(64);
  });
});
