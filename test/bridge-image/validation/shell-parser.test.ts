import { describe, expect, it } from 'vitest';
import { lex } from '../../../bridge-image/src/validation/shell-lexer.js';
import { parse, type CommandNode, type List } from '../../../bridge-image/src/validation/shell-parser.js';

const tree = (src: string): List => parse(lex(src).tokens);
const text = (n: CommandNode | undefined): string => {
  if (!n) return '?';
  switch (n.type) {
    case 'simple':
      return [...n.assigns.map((a) => `${a.name}=`), ...n.words.map((w) => w.raw)].join(' ');
    case 'subshell':
      return `( ${show(n.body)} )`;
    case 'group':
      return `{ ${show(n.body)} }`;
    case 'function':
      return `fn ${n.name} ${text(n.body)}`;
    case 'keyword':
      return `${n.keyword}[${n.words.map((w) => w.raw).join(' ')}]`;
  }
};
const show = (l: List): string =>
  l.items
    .map((i) => i.pipeline.commands.map(text).join(' | ') + (i.op ? ` ${i.op === '\n' ? 'NL' : i.op}` : ''))
    .join(' ');

describe('shell parser', () => {
  it('builds lists and pipelines with their operators', () => {
    expect(show(tree('a x && b | c ; d &'))).toBe('a x && b | c ; d &');
  });

  it('parses subshells, groups and functions', () => {
    expect(show(tree('(cd a && ls) > out; { b; c; }'))).toBe('( cd a && ls ) ; { b ; c ; }');
    expect(show(tree(':(){ :|:& };:'))).toBe('fn : { : | : & } ; :');
    expect(show(tree('function f { echo; }'))).toBe('fn f { echo ; }');
  });

  it('separates prefix assignments and arrays from the command', () => {
    const n = tree('A=1 B+=2 env').items[0]?.pipeline.commands[0];
    expect(n?.type === 'simple' && n.assigns.map((a) => [a.name, a.append, a.value?.raw])).toEqual([
      ['A', false, '1'],
      ['B', true, '2'],
    ]);
    const arr = tree('a=(x y) ; echo').items[0]?.pipeline.commands[0];
    expect(arr?.type === 'simple' && arr.assigns[0]?.array.map((w) => w.raw)).toEqual(['x', 'y']);
    expect(text(tree('echo A=1').items[0]?.pipeline.commands[0])).toBe('echo A=1');
  });

  it('keeps the bodies of if, while, for and case as commands', () => {
    expect(show(tree('if test -f x; then rm x; else touch x; fi'))).toBe('test -f x ; rm x ; touch x ;');
    expect(show(tree('for f in $(ls) a; do rm "$f"; done'))).toBe('for[$(ls) a] ; rm "$f" ;');
    expect(show(tree('while true; do sleep 1; done'))).toBe('true ; sleep 1 ;');
    expect(show(tree('case $x in a|b) rm a;; *) rm b;; esac'))).toBe('case[$x] ; { rm a } ; { rm b } ;');
    expect(show(tree('[[ -f a && -d b ]] && echo y'))).toBe('[[[-f a -d b] && echo y');
    expect(show(tree('for ((i=0;i<3;i++)); do echo $i; done'))).toBe('for[] ; echo $i ;');
  });

  it('attaches redirections to the command they follow', () => {
    const n = tree('{ a; } 2>/dev/null').items[0]?.pipeline.commands[0];
    expect(n?.type === 'group' && n.redirects.map((r) => [r.fd, r.op, r.target?.raw])).toEqual([
      [2, '>', '/dev/null'],
    ]);
  });

  it('survives stray operators and keywords', () => {
    expect(show(tree('| ls ) }'))).toBe('ls');
    expect(show(tree(''))).toBe('');
  });
});
