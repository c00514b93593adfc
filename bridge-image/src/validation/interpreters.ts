/**
 * Where an interpreter takes its program from: an inline argument (`bash -c`,
 * `python -c`, `node -e`), a file, a module, or stdin. That decides whether
 * `curl … | python` runs what was downloaded (it does) or `curl … | python -m json.tool`
 * merely formats it (it does not).
 */
import { basename, type Arg } from './command-model.js';

export type Language = 'shell' | 'python' | 'perl' | 'ruby' | 'node' | 'php';

export interface ProgramSource {
  language: Language;
  kind: 'inline' | 'file' | 'stdin' | 'module';
  /** The inline program or the script file, when there is one. */
  arg: Arg | null;
}

export const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'fish', 'rbash']);

export function languageOf(name: string): Language | null {
  if (SHELLS.has(name)) return 'shell';
  if (/^python[0-9.]*$/.test(name) || name === 'pypy' || name === 'pypy3') return 'python';
  if (/^perl[0-9.]*$/.test(name)) return 'perl';
  if (/^ruby[0-9.]*$/.test(name)) return 'ruby';
  if (name === 'node' || name === 'nodejs' || name === 'bun' || name === 'deno') return 'node';
  if (/^php[0-9.]*$/.test(name)) return 'php';
  return null;
}

/** Null when the command is not an interpreter. */
export function programOf(args: Arg[]): ProgramSource | null {
  const first = args[0];
  if (!first || !first.exact) return null;
  const language = languageOf(basename(first.text));
  if (!language) return null;
  switch (language) {
    case 'shell':
      return shellProgram(args);
    case 'python':
      return scan(args, language, { inline: ['-c'], module: ['-m'], withValue: ['-W', '-X', '-Q'] });
    case 'perl':
    case 'ruby':
      return scan(args, language, { inline: ['-e', '-E'], module: [], withValue: ['-r', '-I', '-C', '-x'] });
    case 'node':
      return scan(args, language, {
        inline: ['-e', '--eval', '-p', '--print'],
        module: [],
        withValue: ['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions'],
      });
    case 'php':
      return scan(args, language, {
        inline: ['-r'],
        module: [],
        withValue: ['-d', '-c', '-z'],
        file: ['-f'],
      });
  }
}

function shellProgram(args: Arg[]): ProgramSource {
  let inline = false;
  let stdin = false;
  let i = 1;
  for (; i < args.length; i++) {
    const t = (args[i] as Arg).text;
    if (t === '--' || t === '-') {
      if (t === '-') stdin = true;
      i++;
      break;
    }
    if (!/^[-+]./.test(t)) break;
    if (['-o', '+o', '-O', '+O', '--rcfile', '--init-file'].includes(t)) {
      i++;
      continue;
    }
    if (t.startsWith('--')) continue;
    if (t.startsWith('-') && t.includes('c')) inline = true;
    if (t.startsWith('-') && t.includes('s')) stdin = true;
  }
  const operand = args[i] ?? null;
  if (inline) return { language: 'shell', kind: 'inline', arg: operand };
  if (stdin || !operand) return { language: 'shell', kind: 'stdin', arg: null };
  return { language: 'shell', kind: 'file', arg: operand };
}

interface ScanSpec {
  inline: string[];
  module: string[];
  withValue: string[];
  file?: string[];
}

function scan(args: Arg[], language: Language, spec: ScanSpec): ProgramSource {
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] as Arg;
    const t = arg.text;
    if (t === '-') return { language, kind: 'stdin', arg: null };
    if (t === '--') {
      const next = args[i + 1];
      return next ? { language, kind: 'file', arg: next } : { language, kind: 'stdin', arg: null };
    }
    if (!t.startsWith('-') || arg.procSub) return { language, kind: 'file', arg };
    const long = t.startsWith('--');
    const eq = t.indexOf('=');
    const name = long && eq !== -1 ? t.slice(0, eq) : t;
    const glued = long && eq !== -1 ? { ...arg, text: t.slice(eq + 1) } : null;
    if (spec.inline.includes(name)) return { language, kind: 'inline', arg: glued ?? args[i + 1] ?? null };
    if (spec.module.includes(name)) return { language, kind: 'module', arg: glued ?? args[i + 1] ?? null };
    if (spec.file?.includes(name)) return { language, kind: 'file', arg: args[i + 1] ?? null };
    if (spec.withValue.includes(name)) {
      if (!glued) i++;
      continue;
    }
    if (!long) {
      // Clusters such as `perl -lane '…'` or `python -uc '…'`: the letter that takes the
      // program ends the cluster, and the program follows glued or as the next argument.
      for (let j = 1; j < t.length; j++) {
        const letter = '-' + t[j];
        const rest = t.slice(j + 1);
        const value = rest ? { ...arg, text: rest, worst: rest } : (args[i + 1] ?? null);
        if (spec.inline.includes(letter)) return { language, kind: 'inline', arg: value };
        if (spec.module.includes(letter)) return { language, kind: 'module', arg: value };
        if (spec.withValue.includes(letter)) {
          if (!rest) i++;
          break;
        }
      }
    }
  }
  return { language, kind: 'stdin', arg: null };
}
