/**
 * Commands that run other commands. `unwrap` takes off prefix wrappers (`sudo`, `env`,
 * `nohup`, `xargs`, …) so rules judge the command that really runs; `nestedOf` finds
 * programs handed over as text (`bash -c`, `eval`, `su -c`, `watch`) or as argv
 * (`find -exec`), which the analysis parses in turn.
 */
import { commandName, litArg, type Arg } from './command-model.js';
import { shellInInlineCode } from './inline-code.js';
import { programOf } from './interpreters.js';
import { lex } from './shell-lexer.js';
import { parseOptions, sliceArg, valueOf, type OptionSpec } from './options.js';

export interface Unwrapped {
  args: Arg[];
  wrappers: string[];
  env: Array<[string, string | null]>;
  /** A directory the wrapper switches to (`env -C`, `sudo -D`). */
  chdir: Arg | null;
  xargs: boolean;
  reads: Arg[];
}

export interface NestedScript {
  kind: 'script';
  label: string;
  arg: Arg;
  /** `$0`, `$1`, … of the script (`sh -c 'rm -rf "$1"' name /`). */
  positional?: Arg[];
}

export interface NestedArgv {
  kind: 'argv';
  label: string;
  args: Arg[];
}

export type Nested = NestedScript | NestedArgv;

const MAX_UNWRAP = 12;

/** Wrappers whose options are skipped and whose first operand is the command. */
const SIMPLE: Record<string, OptionSpec> = {
  nohup: { withValue: [], stopAtOperand: true },
  setsid: { withValue: [], stopAtOperand: true },
  unbuffer: { withValue: [], stopAtOperand: true },
  builtin: { withValue: [], stopAtOperand: true },
  nice: { withValue: ['-n', '--adjustment'], stopAtOperand: true },
  ionice: { withValue: ['-c', '-n', '--class', '--classdata'], stopAtOperand: true },
  time: { withValue: ['-f', '-o', '--format', '--output'], stopAtOperand: true },
  stdbuf: { withValue: ['-i', '-o', '-e', '--input', '--output', '--error'], stopAtOperand: true },
  caffeinate: { withValue: ['-t', '-w'], stopAtOperand: true },
  strace: { withValue: ['-o', '-e', '-p', '-s', '-u', '-E', '-P', '-X'], stopAtOperand: true },
  exec: { withValue: ['-a'], stopAtOperand: true },
  runuser: { withValue: ['-u', '-g', '-G', '--user', '--group'], stopAtOperand: true },
  chronic: { withValue: [], stopAtOperand: true },
  sem: { withValue: ['-j', '--id'], stopAtOperand: true },
};

const SUDO: OptionSpec = {
  withValue: [
    '-u',
    '-g',
    '-C',
    '-D',
    '-h',
    '-p',
    '-r',
    '-t',
    '-U',
    '-T',
    '-R',
    '--user',
    '--group',
    '--close-from',
    '--chdir',
    '--host',
    '--prompt',
    '--role',
    '--type',
    '--other-user',
    '--command-timeout',
    '--chroot',
  ],
  stopAtOperand: true,
};

const XARGS: OptionSpec = {
  withValue: [
    '-I',
    '-n',
    '-P',
    '-L',
    '-d',
    '-E',
    '-s',
    '-a',
    '--arg-file',
    '--delimiter',
    '--max-args',
    '--max-procs',
    '--max-lines',
    '--replace',
    '--eof',
    '--max-chars',
    '--process-slot-var',
  ],
  stopAtOperand: true,
};

const ENV: OptionSpec = {
  withValue: ['-u', '-C', '-S', '-P', '--unset', '--chdir', '--split-string'],
  stopAtOperand: true,
};

export function unwrap(input: Arg[]): Unwrapped {
  const out: Unwrapped = { args: input, wrappers: [], env: [], chdir: null, xargs: false, reads: [] };
  for (let n = 0; n < MAX_UNWRAP; n++) {
    const args = out.args;
    const name = commandName(args);
    let next: Arg[] | null = null;
    if (SIMPLE[name]) {
      next = args.slice(parseOptions(args, 1, SIMPLE[name]).rest);
    } else if (name === 'sudo' || name === 'doas') {
      const p = parseOptions(args, 1, SUDO);
      if (p.flags.has('-e') || p.flags.has('--edit')) next = [litArg('sudoedit'), ...args.slice(p.rest)];
      else {
        next = takeAssignments(args.slice(p.rest), out);
        out.chdir = valueOf(p, '-D', '--chdir')[0] ?? out.chdir;
      }
    } else if (name === 'env') {
      next = unwrapEnv(args, out);
    } else if (name === 'command') {
      const p = parseOptions(args, 1, { withValue: [], stopAtOperand: true });
      // `command -v x` only looks x up.
      if (!p.flags.has('-v') && !p.flags.has('-V')) next = args.slice(p.rest);
    } else if (name === 'timeout') {
      const p = parseOptions(args, 1, {
        withValue: ['-s', '-k', '--signal', '--kill-after'],
        stopAtOperand: true,
      });
      next = args.slice(p.rest + 1);
    } else if (name === 'xargs') {
      const p = parseOptions(args, 1, XARGS);
      next = args.slice(p.rest);
      if (!next.length) next = [litArg('echo')];
      out.xargs = true;
      out.reads.push(...valueOf(p, '-a', '--arg-file'));
    } else if (name === 'busybox' && args.length > 1) {
      next = args.slice(1);
    }
    if (!next || !next.length) break;
    out.wrappers.push(name);
    out.args = next;
  }
  return out;
}

function takeAssignments(args: Arg[], out: Unwrapped): Arg[] {
  let i = 0;
  for (; i < args.length; i++) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec((args[i] as Arg).text);
    if (!m) break;
    out.env.push([m[1] as string, m[2] as string]);
  }
  return args.slice(i);
}

function unwrapEnv(args: Arg[], out: Unwrapped): Arg[] {
  const p = parseOptions(args, 1, ENV);
  for (const u of valueOf(p, '-u', '--unset')) out.env.push([u.text, null]);
  out.chdir = valueOf(p, '-C', '--chdir')[0] ?? out.chdir;
  let rest = args.slice(p.rest);
  if (rest[0]?.text === '-') rest = rest.slice(1);
  rest = takeAssignments(rest, out);
  const split = valueOf(p, '-S', '--split-string')[0];
  if (split) rest = [...splitWords(split), ...rest];
  return rest;
}

/** `env -S 'a "b c"'` splits its string with shell-like quoting. */
function splitWords(arg: Arg): Arg[] {
  const { tokens } = lex(arg.text);
  const words: Arg[] = [];
  for (const t of tokens) {
    if (t.kind !== 'word') continue;
    const text = t.word.parts.map((p) => (p.type === 'lit' ? p.text : '')).join('');
    words.push({ ...litArg(text), exact: arg.exact });
  }
  return words;
}

/** Programs a command runs from its arguments. */
export function nestedOf(args: Arg[]): Nested[] {
  const name = commandName(args);
  const program = programOf(args);
  if (program?.language === 'shell' && program.kind === 'inline' && program.arg) {
    const positional = args.slice(args.indexOf(program.arg) + 1);
    return [{ kind: 'script', label: `${name} -c`, arg: program.arg, positional }];
  }
  if (program?.kind === 'inline' && program.arg) {
    return shellInInlineCode(program.language, program.arg.text).map((text) => ({
      kind: 'script',
      label: `${name} inline code`,
      arg: { ...litArg(text), exact: program.arg?.exact ?? false },
    }));
  }
  // `"$SHELL" -c '…'`: whatever the program is, `-c` followed by a script is a shell idiom.
  const first = args[0];
  if (first && !first.exact && args[1]?.text === '-c' && args[2]) {
    return [{ kind: 'script', label: `${first.text} -c`, arg: args[2], positional: args.slice(3) }];
  }
  switch (name) {
    case 'eval':
      return args.length > 1 ? [{ kind: 'script', label: 'eval', arg: joinArgs(args.slice(1), ' ') }] : [];
    case 'su':
    case 'runuser': {
      const p = parseOptions(args, 1, { withValue: ['-c', '--command', '-s', '--shell', '-g', '-G', '-u'] });
      const script = valueOf(p, '-c', '--command')[0];
      return script ? [{ kind: 'script', label: `${name} -c`, arg: script }] : [];
    }
    case 'watch': {
      const p = parseOptions(args, 1, {
        withValue: ['-n', '-d', '--interval', '--differences', '-q', '--equexit'],
        stopAtOperand: true,
      });
      const rest = args.slice(p.rest);
      if (!rest.length) return [];
      return p.flags.has('-x') || p.flags.has('--exec')
        ? [{ kind: 'argv', label: 'watch', args: rest }]
        : [{ kind: 'script', label: 'watch', arg: joinArgs(rest, ' ') }];
    }
    case 'find':
      return findExecs(args);
    // Both store a program to run later (on a signal, or when the alias is typed); judge it now.
    case 'trap':
      return args[1] && !args[1].text.startsWith('-')
        ? [{ kind: 'script', label: 'trap', arg: args[1] }]
        : [];
    case 'alias':
      return args.slice(1).flatMap((a): Nested[] => {
        const eq = a.text.indexOf('=');
        return eq > 0 ? [{ kind: 'script', label: 'alias', arg: sliceArg(a, eq + 1) }] : [];
      });
    case 'parallel': {
      const i = args.findIndex((a) => a.text === ':::');
      const cmd = args.slice(1, i === -1 ? args.length : i).filter((a) => !a.text.startsWith('-'));
      return cmd.length ? [{ kind: 'script', label: 'parallel', arg: joinArgs(cmd, ' ') }] : [];
    }
    default:
      return [];
  }
}

function findExecs(args: Arg[]): Nested[] {
  const out: Nested[] = [];
  for (let i = 1; i < args.length; i++) {
    const t = (args[i] as Arg).text;
    if (t !== '-exec' && t !== '-execdir' && t !== '-ok' && t !== '-okdir') continue;
    let j = i + 1;
    while (j < args.length && args[j]?.text !== ';' && args[j]?.text !== '+') j++;
    const cmd = args.slice(i + 1, j);
    if (cmd.length) out.push({ kind: 'argv', label: `find ${t}`, args: cmd });
    i = j;
  }
  return out;
}

export function joinArgs(args: Arg[], sep: string): Arg {
  return {
    text: args.map((a) => a.text).join(sep),
    exact: args.every((a) => a.exact),
    worst: args.map((a) => a.worst).join(sep),
    quoted: args.some((a) => a.quoted),
    glob: false,
    subs: args.flatMap((a) => a.subs),
    procSub: false,
  };
}
