/**
 * Runs every case of corpus.jsonl through the engine and reports all mismatches at once.
 * The cases run in a fixed world: workspace /work/project, home /home/dev, and the
 * policy in corpus-policy.json (which allows /tmp, protects a few paths, adds rules).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicyText, validate } from '../../../bridge-image/src/validation/index.js';

interface Case {
  tool: string;
  input: unknown;
  cwd?: string;
  expect: 'approved' | 'blocked' | 'escalate';
  rule?: string;
  note: string;
}

const here = __dirname;
const lines = fs.readFileSync(path.join(here, 'corpus.jsonl'), 'utf8').split('\n');
const cases: Array<Case & { line: number }> = lines.flatMap((text, i) =>
  text.trim() ? [{ ...(JSON.parse(text) as Case), line: i + 1 }] : [],
);
const policy = parsePolicyText(
  fs.readFileSync(path.join(here, 'corpus-policy.json'), 'utf8'),
  'corpus-policy.json',
);
const context = { workspace: '/work/project', home: '/home/dev', policy };

const show = (c: Case): string =>
  c.tool === 'Bash' && typeof (c.input as { command?: unknown }).command === 'string'
    ? JSON.stringify((c.input as { command: string }).command)
    : `${c.tool} ${JSON.stringify(c.input)}`;

describe('validation corpus', () => {
  it('has at least 300 cases, dangerous and harmless', () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
    const count = (d: Case['expect']) => cases.filter((c) => c.expect === d).length;
    expect(count('blocked')).toBeGreaterThanOrEqual(100);
    expect(count('approved')).toBeGreaterThanOrEqual(100);
    expect(count('escalate')).toBeGreaterThanOrEqual(10);
  });

  it('decides every case as expected', () => {
    const mismatches: string[] = [];
    for (const c of cases) {
      const r = validate({ tool: c.tool, input: c.input, cwd: c.cwd, agentId: 'corpus' }, context);
      const ruleOk = c.rule === undefined || r.rule === c.rule;
      if (r.decision !== c.expect || !ruleOk) {
        mismatches.push(
          `line ${c.line} (${c.note}): ${show(c)}${c.cwd ? ` in ${c.cwd}` : ''}\n` +
            `    expected ${c.expect}${c.rule ? ` by ${c.rule}` : ''}, got ${r.decision} by ${r.rule}: ${r.reason}`,
        );
      }
    }
    expect(
      mismatches,
      `${mismatches.length} of ${cases.length} cases differ:\n${mismatches.join('\n')}`,
    ).toEqual([]);
  });

  it('names the deciding rule for every case that is not approved', () => {
    for (const c of cases.filter((x) => x.expect !== 'approved'))
      expect(c.rule, `line ${c.line}`).toBeDefined();
  });
});
