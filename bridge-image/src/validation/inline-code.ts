/**
 * Shell commands hidden in one-line programs for other interpreters: `python -c
 * "os.system('rm -rf /')"`, `node -e "execSync('…')"`, perl/ruby backticks, and the
 * recursive-delete APIs (`shutil.rmtree('/')`, `fs.rmSync('/', { recursive: true })`).
 * Only string literals are followed; computed commands stay invisible, as they would
 * to any reviewer reading the line.
 */
import type { Language } from './interpreters.js';

const STRING = String.raw`(['"\x60])((?:\\.|(?!\1)[^\\])*)\1`;

/** Calls whose first argument is a shell command line. */
const SHELL_CALLS = new RegExp(
  String.raw`(?:os\.system|os\.popen|subprocess\.(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)|execSync|exec|system|popen|IO\.popen|Kernel\.system|shell_exec|passthru|proc_open)\s*\(\s*` +
    STRING,
  'g',
);
/** Calls taking an argv list: `subprocess.run(['rm', '-rf', '/'])`, `spawnSync('rm', ['-rf', '/'])`. */
const ARGV_CALLS =
  /(?:subprocess\.(?:run|call|check_call|check_output|Popen)|os\.exec\w*|spawnSync|spawn|execFileSync|execFile)\s*\(\s*((?:['"][^'"]*['"]\s*,\s*)?\[[^\]]*\])/g;
const BACKTICKS = /`([^`]+)`|\bqx\s*[{(/|]([^})/|]+)[})/|]/g;
const RMTREE =
  /(?:\brmtree|FileUtils\.rm_r[f]?|FileUtils\.remove_dir|\brimraf(?:\.sync)?|\brmSync|\brmdirSync|\bpromises\.rm|\bremove_tree)\s*\(\s*(['"])([^'"]*)\1/g;

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const unescape = (s: string): string =>
  s.replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t' })[c as 'n' | 't'] ?? c);

/** Shell command lines that a one-line program in `language` would run. */
export function shellInInlineCode(language: Language, code: string): string[] {
  if (language === 'shell') return [];
  const out: string[] = [];
  for (const m of code.matchAll(SHELL_CALLS)) out.push(unescape(m[2] ?? ''));
  for (const m of code.matchAll(ARGV_CALLS)) {
    const words = [...(m[1] ?? '').matchAll(/(['"])((?:\\.|(?!\1)[^\\])*)\1/g)].map((w) =>
      quote(unescape(w[2] ?? '')),
    );
    if (words.length) out.push(words.join(' '));
  }
  if (language === 'perl' || language === 'ruby') {
    for (const m of code.matchAll(BACKTICKS)) out.push(m[1] ?? m[2] ?? '');
  }
  for (const m of code.matchAll(RMTREE)) out.push(`rm -rf ${quote(m[2] ?? '')}`);
  return out.filter((s) => s.trim() !== '');
}
