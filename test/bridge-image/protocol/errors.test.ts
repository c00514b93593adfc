import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { issuePath } from '../../../bridge-image/protocol/index.js';

describe('issuePath', () => {
  it('writes where a zod issue is as a caller would write it', () => {
    const schema = z.object({ rules: z.array(z.object({ match: z.object({ command: z.string() }) })) });
    const r = schema.safeParse({ rules: [{ match: { command: 'ls' } }, { match: { command: 1 } }] });
    expect(r.success).toBe(false);
    expect(issuePath(r.error!.issues[0]!.path)).toBe('rules[1].match.command');
  });

  it('gives an empty string for the value itself, and indexes first when the value is a list', () => {
    expect(issuePath([])).toBe('');
    expect(issuePath([0, 'type'])).toBe('[0].type');
  });
});
