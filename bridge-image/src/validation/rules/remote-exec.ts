/** Running code straight from the network: `curl … | sh`, `bash <(curl …)`, `sh -c "$(curl …)"`, download-then-run. */
import { basename, commandName, type Arg, type Command } from '../command-model.js';
import { fileOps } from '../file-ops.js';
import { resolvePath } from '../glob.js';
import { programOf } from '../interpreters.js';
import { parseOptions } from '../options.js';
import { defineRule } from './rule.js';

const FETCHERS = new Set([
  'curl',
  'wget',
  'fetch',
  'http',
  'https',
  'xh',
  'xhs',
  'aria2c',
  'lwp-request',
  'lwp-download',
]);

export const isFetcher = (c: Command): boolean => FETCHERS.has(commandName(c.args));

const fetchesIn = (arg: Arg | null | undefined): boolean => !!arg && arg.subs.some(isFetcher);

/** Files that fetchers earlier in the line saved: `-o FILE`, `> FILE`, or wget's URL name. */
function downloads(commands: Command[], before: number): Set<string> {
  const out = new Set<string>();
  for (const c of commands.slice(0, before)) {
    if (!isFetcher(c)) continue;
    for (const op of fileOps(c)) if (op.access === 'write' && op.path) out.add(op.path);
    const name = commandName(c.args);
    const wget = name === 'wget';
    const p = parseOptions(c.args, 1, {
      withValue: wget
        ? ['-O', '-o', '-a', '-P', '--output-document', '--output-file']
        : ['-o', '--output', '-H', '-d'],
    });
    const remoteName = wget
      ? !p.values.has('-O') && !p.values.has('--output-document')
      : p.flags.has('-O') || p.flags.has('--remote-name');
    if (!remoteName || c.cwd === null) continue;
    for (const url of p.operands) {
      const m = /^[a-z]+:\/\/[^/]+\/(?:[^?#]*\/)?([^/?#]+)/i.exec(url.text);
      const file = m && resolvePath(m[1] as string, c.cwd);
      if (file) out.add(file);
    }
  }
  return out;
}

export const remoteScriptExec = defineRule('remote-script-exec', 0.97, (s, env) => {
  if (s.kind !== 'command') return null;
  const cmd = s.command;
  const name = commandName(cmd.args);
  const advice = 'download it to a file, read it, then run it in a separate, reviewed step';
  const program = programOf(cmd.args);
  if (program) {
    const runner = basename(cmd.argv[0] ?? name);
    if (program.kind === 'stdin' && cmd.stdinFrom.some(isFetcher)) {
      return `pipes a script downloaded from the network straight into ${runner}; ${advice}`;
    }
    if (fetchesIn(program.arg)) return `runs code downloaded from the network with ${runner}; ${advice}`;
    if (program.kind === 'file' && program.arg?.exact && env.analysis) {
      const file = resolvePath(program.arg.text, cmd.cwd);
      if (file && downloads(env.analysis.commands, cmd.index).has(file)) {
        return `runs ${program.arg.text}, downloaded earlier in the same command, without review; ${advice}`;
      }
    }
  }
  if ((name === 'eval' || name === 'source' || name === '.') && cmd.args.slice(1).some(fetchesIn)) {
    return `${name} runs code downloaded from the network; ${advice}`;
  }
  return null;
});
