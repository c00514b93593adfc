/**
 * Which files a simple command reads, writes or deletes, from its redirections and
 * from what well-known tools do with their operands (`cp SRC… DEST`, `sed -i`,
 * `curl -d @FILE`, …). Unknown commands touch only what they redirect.
 */
import { commandName, type Arg, type Command } from './command-model.js';
import { resolvePath } from './glob.js';
import { hasAny, parseOptions, valueOf, type OptionSpec, type ParsedOptions } from './options.js';

export type Access = 'read' | 'write' | 'delete';

export interface FileOp {
  access: Access;
  /** Absolute path; null when it depends on something unknown. Globs are kept literally. */
  path: string | null;
  /** As written, for messages. */
  raw: string;
  /** What does it: `>`, `cp`, `Edit`, … */
  via: string;
  /** Read or delete a whole tree (`rm -r`, `cp -r`, `tar c`). */
  recursive: boolean;
}

type Handler = (args: Arg[], add: Adder) => void;
type Adder = (access: Access, arg: Arg | undefined, recursive?: boolean) => void;

const spec = (...withValue: string[]): OptionSpec => ({ withValue });

/** Commands whose operands are all files they only read. */
const READERS: Record<string, OptionSpec> = {
  cat: spec(),
  tac: spec('-s', '--separator'),
  less: spec('-b', '-h', '-j', '-k', '-o', '-O', '-p', '-P', '-t', '-T', '-x', '-y', '-z'),
  more: spec('-n'),
  most: spec(),
  head: spec('-n', '-c', '--lines', '--bytes'),
  tail: spec('-n', '-c', '-s', '--lines', '--bytes', '--pid', '--sleep-interval'),
  nl: spec('-b', '-d', '-f', '-h', '-i', '-l', '-n', '-s', '-v', '-w'),
  bat: spec('-l', '-m', '-H', '-r', '--language', '--line-range', '--highlight-line', '--style', '--theme'),
  batcat: spec('-l', '-m', '-H', '-r', '--language', '--line-range', '--style', '--theme'),
  strings: spec('-n', '-t', '-e', '--bytes', '--radix', '--encoding'),
  od: spec('-A', '-j', '-N', '-t', '-w'),
  xxd: spec('-c', '-g', '-l', '-o', '-s', '-C'),
  hexdump: spec('-e', '-f', '-n', '-s'),
  hd: spec('-e', '-f', '-n', '-s'),
  base64: spec('-w', '--wrap'),
  base32: spec('-w', '--wrap'),
  basenc: spec('-w', '--wrap'),
  uuencode: spec(),
  cut: spec('-b', '-c', '-d', '-f', '--bytes', '--characters', '--delimiter', '--fields'),
  uniq: spec('-f', '-s', '-w'),
  paste: spec('-d'),
  column: spec('-c', '-s', '-t', '-o'),
  fold: spec('-w'),
  fmt: spec('-w', '-p'),
  rev: spec(),
  diff: spec('-C', '-U', '-F', '-I', '-x', '-X', '-L', '--label'),
  cmp: spec('-i', '-n'),
  comm: spec(),
  vim: spec('-c', '-u', '-S', '-T'),
  vi: spec('-c', '-u', '-S'),
  nvim: spec('-c', '-u', '-S'),
  view: spec('-c'),
  nano: spec(),
  emacs: spec(),
  code: spec(),
  gpg: spec('-o', '--output', '-r', '--recipient', '-u', '--local-user'),
  iconv: spec('-f', '-t'),
  expand: spec('-t'),
  tr: spec(),
  jless: spec(),
  zcat: spec(),
  gzip: spec('-S'),
  bzip2: spec(),
  xz: spec(),
  zstd: spec('-o'),
};

/** Commands whose first operand is a program or pattern unless one is given as an option. */
const PATTERN_FIRST: Record<string, { spec: OptionSpec; program: string[] }> = {
  grep: {
    spec: spec(
      '-e',
      '-f',
      '-m',
      '-A',
      '-B',
      '-C',
      '-d',
      '-D',
      '--regexp',
      '--file',
      '--max-count',
      '--context',
    ),
    program: ['-e', '-f', '--regexp', '--file'],
  },
  egrep: { spec: spec('-e', '-f', '-m', '-A', '-B', '-C'), program: ['-e', '-f'] },
  fgrep: { spec: spec('-e', '-f', '-m', '-A', '-B', '-C'), program: ['-e', '-f'] },
  zgrep: { spec: spec('-e', '-f', '-m', '-A', '-B', '-C'), program: ['-e', '-f'] },
  rg: {
    spec: spec(
      '-e',
      '-f',
      '-g',
      '-t',
      '-T',
      '-m',
      '-A',
      '-B',
      '-C',
      '-E',
      '-j',
      '-M',
      '-r',
      '--regexp',
      '--file',
      '--glob',
      '--iglob',
      '--type',
      '--type-not',
      '--max-count',
      '--replace',
    ),
    program: ['-e', '-f', '--regexp', '--file'],
  },
  ag: { spec: spec('-G', '-A', '-B', '-C', '-m', '--ignore'), program: [] },
  ack: { spec: spec('-A', '-B', '-C', '-m', '--type'), program: [] },
  awk: { spec: spec('-f', '-v', '-F'), program: ['-f'] },
  gawk: { spec: spec('-f', '-v', '-F', '-i', '-l'), program: ['-f'] },
  mawk: { spec: spec('-f', '-v', '-F'), program: ['-f'] },
  nawk: { spec: spec('-f', '-v', '-F'), program: ['-f'] },
  jq: {
    spec: spec('-f', '-L', '--from-file', '--indent', '--tab'),
    program: ['-f', '--from-file'],
  },
  yq: { spec: spec('-f', '-I', '-o', '-p', '--from-file'), program: ['-f', '--from-file'] },
};

const HANDLERS: Record<string, Handler> = {
  tee: (args, add) => parseOptions(args, 1, spec('-p')).operands.forEach((a) => add('write', a)),
  cp: (args, add) => copyLike(args, add, 'read'),
  mv: (args, add) => copyLike(args, add, 'delete'),
  install: (args, add) => {
    const p = parseOptions(
      args,
      1,
      spec('-m', '-o', '-g', '-t', '-S', '--mode', '--owner', '--group', '--target-directory', '--suffix'),
    );
    if (p.flags.has('-d')) p.operands.forEach((a) => add('write', a));
    else targets(p, add, 'read');
  },
  ln: (args, add) => {
    const p = parseOptions(args, 1, spec('-t', '-S', '--target-directory', '--suffix'));
    const dir = valueOf(p, '-t', '--target-directory')[0];
    if (dir) add('write', dir);
    else if (p.operands.length >= 2) add('write', p.operands[p.operands.length - 1]);
  },
  rsync: (args, add) => {
    const p = parseOptions(
      args,
      1,
      spec('-e', '-f', '-T', '--rsh', '--filter', '--temp-dir', '--partial-dir', '--log-file'),
    );
    const local = p.operands.filter((a) => !isRemote(a.text));
    const last = p.operands[p.operands.length - 1];
    for (const a of p.operands.slice(0, -1)) if (local.includes(a)) add('read', a, true);
    if (last && local.includes(last) && p.operands.length > 1) add('write', last, true);
  },
  scp: (args, add) => {
    const p = parseOptions(args, 1, spec('-c', '-F', '-i', '-J', '-l', '-o', '-P', '-S'));
    const last = p.operands[p.operands.length - 1];
    for (const a of p.operands.slice(0, -1)) if (!isRemote(a.text)) add('read', a, p.flags.has('-r'));
    if (last && !isRemote(last.text) && p.operands.length > 1) add('write', last);
  },
  rm: (args, add) => {
    const p = parseOptions(args, 1, spec());
    const recursive = hasAny(p, '-r', '-R', '--recursive');
    p.operands.forEach((a) => add('delete', a, recursive));
  },
  rmdir: (args, add) => parseOptions(args, 1, spec()).operands.forEach((a) => add('delete', a)),
  unlink: (args, add) => parseOptions(args, 1, spec()).operands.forEach((a) => add('delete', a)),
  shred: (args, add) => {
    const p = parseOptions(args, 1, spec('-n', '-s', '--iterations', '--size'));
    p.operands.forEach((a) => add(p.flags.has('-u') ? 'delete' : 'write', a));
  },
  truncate: (args, add) => {
    const p = parseOptions(args, 1, spec('-s', '-r', '--size', '--reference'));
    p.operands.forEach((a) => add('write', a));
  },
  touch: (args, add) => {
    const p = parseOptions(args, 1, spec('-d', '-t', '-r', '--date', '--reference'));
    p.operands.forEach((a) => add('write', a));
  },
  mkdir: (args, add) => parseOptions(args, 1, spec('-m', '--mode')).operands.forEach((a) => add('write', a)),
  chmod: (args, add) => {
    const { recursive, operands } = chmodArgs(args);
    operands.forEach((a) => add('write', a, recursive));
  },
  chown: (args, add) => ownerLike(args, add),
  chgrp: (args, add) => ownerLike(args, add),
  sed: (args, add) => {
    const p = parseOptions(args, 1, spec('-e', '-f', '-l', '--expression', '--file', '--line-length'));
    const inPlace = [...p.flags].some((f) => f === '-i' || f === '--in-place');
    let operands = p.operands;
    // BSD `sed -i '' …`: the empty argument is the backup suffix, not the script.
    if (inPlace && operands[0]?.text === '' && operands[0].quoted) operands = operands.slice(1);
    const files = valueOf(p, '-e', '-f', '--expression', '--file').length ? operands : operands.slice(1);
    valueOf(p, '-f', '--file').forEach((a) => add('read', a));
    files.forEach((a) => add(inPlace ? 'write' : 'read', a));
  },
  dd: (args, add) => {
    for (const a of args.slice(1)) {
      if (a.text.startsWith('if=')) add('read', { ...a, text: a.text.slice(3), worst: a.worst.slice(3) });
      if (a.text.startsWith('of=')) add('write', { ...a, text: a.text.slice(3), worst: a.worst.slice(3) });
    }
  },
  sort: (args, add) => {
    const p = parseOptions(
      args,
      1,
      spec('-k', '-t', '-o', '-S', '-T', '--key', '--output', '--field-separator'),
    );
    valueOf(p, '-o', '--output').forEach((a) => add('write', a));
    p.operands.forEach((a) => add('read', a));
  },
  curl: (args, add) => {
    const p = parseOptions(
      args,
      1,
      spec(
        '-o',
        '-d',
        '-F',
        '-T',
        '-K',
        '-H',
        '-u',
        '-A',
        '-X',
        '-b',
        '-c',
        '-e',
        '-r',
        '-w',
        '-x',
        '-m',
        '-E',
        '-C',
        '--output',
        '--data',
        '--data-binary',
        '--data-urlencode',
        '--data-ascii',
        '--data-raw',
        '--json',
        '--form',
        '--upload-file',
        '--config',
        '--header',
        '--user',
        '--user-agent',
        '--request',
        '--cookie',
        '--cookie-jar',
        '--url',
        '--cert',
        '--key',
        '--cacert',
        '--output-dir',
        '--max-time',
        '--connect-timeout',
        '--retry',
      ),
    );
    valueOf(p, '-o', '--output', '-c', '--cookie-jar').forEach((a) => a.text !== '-' && add('write', a));
    const fromFile = (d: Arg, file: string | undefined) => {
      if (file && file !== '-') add('read', { ...d, text: file, worst: file });
    };
    for (const d of valueOf(p, '-d', '--data', '--data-binary', '--data-ascii', '--json')) {
      if (d.text.startsWith('@')) fromFile(d, d.text.slice(1));
    }
    // `--data-urlencode` reads a file for `@FILE` and `NAME@FILE`, never for `NAME=…`.
    for (const d of valueOf(p, '--data-urlencode')) fromFile(d, /^[^=@]*@(.+)$/.exec(d.text)?.[1]);
    for (const f of valueOf(p, '-F', '--form')) {
      const m = /=[@<]([^;]+)/.exec(f.text);
      if (m) add('read', { ...f, text: m[1] as string, worst: m[1] as string });
    }
    valueOf(p, '-T', '--upload-file', '-K', '--config').forEach((a) => add('read', a));
  },
  wget: (args, add) => {
    const p = parseOptions(
      args,
      1,
      spec(
        '-O',
        '-o',
        '-a',
        '-P',
        '-i',
        '-U',
        '-e',
        '-T',
        '-t',
        '-w',
        '-Q',
        '-l',
        '-A',
        '-R',
        '-D',
        '-I',
        '-X',
        '--output-document',
        '--output-file',
        '--append-output',
        '--directory-prefix',
        '--input-file',
        '--post-file',
        '--body-file',
        '--post-data',
        '--user-agent',
        '--header',
        '--user',
        '--password',
      ),
    );
    valueOf(
      p,
      '-O',
      '--output-document',
      '-o',
      '--output-file',
      '-a',
      '--append-output',
      '-P',
      '--directory-prefix',
    ).forEach((a) => a.text !== '-' && add('write', a));
    valueOf(p, '-i', '--input-file', '--post-file', '--body-file').forEach((a) => add('read', a));
  },
  openssl: (args, add) => {
    for (let i = 1; i < args.length; i++) {
      const t = args[i]?.text;
      if (t === '-in' || t === '-inkey' || t === '-key') add('read', args[++i]);
      else if (t === '-out') add('write', args[++i]);
    }
  },
  tar: (args, add) => {
    const first = args[1]?.text ?? '';
    const bundled = first && !first.startsWith('-') ? `-${first}` : null;
    const all = bundled ? [args[0] as Arg, { ...(args[1] as Arg), text: bundled }, ...args.slice(2)] : args;
    const p = parseOptions(
      all,
      1,
      spec('-f', '-C', '-T', '-X', '--file', '--directory', '--files-from', '--exclude'),
    );
    const creating = hasAny(p, '-c', '--create', '-r', '--append', '-u', '--update');
    const archive = valueOf(p, '-f', '--file')[0];
    if (creating) {
      if (archive && archive.text !== '-') add('write', archive);
      p.operands.forEach((a) => add('read', a, true));
    } else if (hasAny(p, '-x', '--extract', '--get')) {
      if (archive) add('read', archive);
      const dir = valueOf(p, '-C', '--directory')[0];
      if (dir) add('write', dir, true);
    }
  },
  zip: (args, add) => {
    const p = parseOptions(args, 1, spec('-x', '-i', '-b', '-n', '-P', '-t', '-tt'));
    const [archive, ...files] = p.operands;
    if (archive) add('write', archive);
    files.forEach((a) => add('read', a, true));
  },
  unzip: (args, add) => {
    const p = parseOptions(args, 1, spec('-d', '-x', '-P'));
    valueOf(p, '-d').forEach((a) => add('write', a, true));
    if (p.operands[0]) add('read', p.operands[0]);
  },
  sudoedit: (args, add) => parseOptions(args, 1, spec('-u', '-g')).operands.forEach((a) => add('write', a)),
};

export function fileOps(cmd: Command): FileOp[] {
  const ops: FileOp[] = [];
  const name = commandName(cmd.args);
  const add =
    (via: string) =>
    (access: Access, arg: Arg | undefined, recursive = false) => {
      if (!arg || arg.procSub) return;
      const path = arg.exact ? resolvePath(arg.text, cmd.cwd) : null;
      ops.push({ access, path, raw: arg.text, via, recursive });
    };
  for (const r of cmd.redirects) {
    if (!r.target || ((r.op === '>&' || r.op === '<&') && /^(?:\d+|-)$/.test(r.target.text))) continue;
    if (r.op === '<' || r.op === '<&') add(r.op)('read', r.target);
    else if (r.op === '<>') {
      add(r.op)('read', r.target);
      add(r.op)('write', r.target);
    } else add(r.op)('write', r.target);
  }
  for (const a of cmd.wrapperReads) add('xargs -a')('read', a);
  if (!name) return ops;
  const reader = READERS[name];
  if (reader) {
    parseOptions(cmd.args, 1, reader).operands.forEach((a) => add(name)('read', a));
    return ops;
  }
  const patternFirst = PATTERN_FIRST[name];
  if (patternFirst) {
    const args = name === 'jq' ? withoutJqPairs(cmd.args, add(name)) : cmd.args;
    const p = parseOptions(args, 1, patternFirst.spec);
    const files = valueOf(p, ...patternFirst.program).length ? p.operands : p.operands.slice(1);
    const recursive = hasAny(p, '-r', '-R', '--recursive');
    if (name === 'awk' || name === 'gawk' || name === 'jq' || name === 'yq') {
      valueOf(p, '-f', '--from-file').forEach((a) => add(name)('read', a));
    }
    files.forEach((a) => add(name)('read', a, recursive));
    return ops;
  }
  HANDLERS[name]?.(cmd.args, add(name));
  return ops;
}

/**
 * jq's `--arg NAME VALUE`-style options take two values, which getopt-style parsing
 * cannot know; they are taken out first, and `--rawfile`/`--slurpfile` count as reads.
 */
function withoutJqPairs(args: Arg[], add: Adder): Arg[] {
  const out: Arg[] = [];
  for (let i = 0; i < args.length; i++) {
    const t = args[i]?.text;
    if (t === '--arg' || t === '--argjson' || t === '--rawfile' || t === '--slurpfile') {
      if (t === '--rawfile' || t === '--slurpfile') add('read', args[i + 2]);
      i += 2;
    } else out.push(args[i] as Arg);
  }
  return out;
}

function copyLike(args: Arg[], add: Adder, sourceAccess: Access): void {
  const p = parseOptions(args, 1, spec('-t', '-S', '--target-directory', '--suffix'));
  targets(p, add, sourceAccess);
}

function targets(p: ParsedOptions, add: Adder, sourceAccess: Access): void {
  const recursive = hasAny(p, '-r', '-R', '-a', '--recursive', '--archive');
  const dir = valueOf(p, '-t', '--target-directory')[0];
  if (dir) {
    p.operands.forEach((a) => add(sourceAccess, a, recursive));
    add('write', dir, recursive);
    return;
  }
  if (p.operands.length < 2) {
    p.operands.forEach((a) => add(sourceAccess, a, recursive));
    return;
  }
  p.operands.slice(0, -1).forEach((a) => add(sourceAccess, a, recursive));
  add('write', p.operands[p.operands.length - 1], recursive);
}

function ownerLike(args: Arg[], add: Adder): void {
  const p = parseOptions(args, 1, spec('--reference', '--from'));
  const recursive = hasAny(p, '-R', '--recursive');
  const files = p.values.has('--reference') ? p.operands : p.operands.slice(1);
  files.forEach((a) => add('write', a, recursive));
}

/** `host:path` and `user@host:path` are remote; `./a:b` and `/x:y` are local. */
const isRemote = (t: string): boolean => /^[^/]*:/.test(t) && !t.startsWith('./');

/**
 * chmod's own options (`-R`, `-v`, `-c`, `-f`) look like symbolic modes (`-w`, `-rx`),
 * so it needs its own reading: a leading-dash word of mode letters is the mode.
 */
export function chmodArgs(args: Arg[]): { recursive: boolean; mode: Arg | null; operands: Arg[] } {
  let recursive = false;
  let mode: Arg | null = null;
  const operands: Arg[] = [];
  let reference = false;
  let ended = false;
  for (const a of args.slice(1)) {
    const t = a.text;
    if (!ended && t === '--') ended = true;
    else if (!ended && (t === '--recursive' || /^-[Rcfv]+$/.test(t)))
      recursive ||= t.includes('R') || t === '--recursive';
    else if (!ended && t.startsWith('--reference')) reference = true;
    else if (!ended && t.startsWith('--')) continue;
    else if (mode === null && !reference) mode = a;
    else operands.push(a);
  }
  return { recursive, mode, operands };
}
