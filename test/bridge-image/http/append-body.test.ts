import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppendRequest } from '../../../bridge-image/protocol/index.js';
import { checkAppend, parseAppendBody } from '../../../bridge-image/src/http/append-body.js';
import { parseJson } from '../../../bridge-image/src/http/body.js';
import { HttpError } from '../../../bridge-image/src/http/errors.js';

/** Bodies near the edges of AppendRequest: valid ones and every way of being slightly wrong. */
const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 5 }),
  fc.constant([]),
  fc.constant({}),
);
const typeName = fc.oneof(
  fc.constantFrom(
    'custom.a',
    'custom.build_started',
    'a.b',
    'ab',
    'Custom.a',
    'custom.',
    'custom..a',
    'custom.a-b',
  ),
  fc.string({ maxLength: 12 }),
  fc.constant(`custom.${'x'.repeat(93)}`),
  fc.constant(`custom.${'x'.repeat(94)}`),
  anyValue,
);
const streamName = fc.oneof(
  fc.constantFrom(
    'agent:a',
    'custom:x',
    'custom',
    'Custom:x',
    'custom:',
    'custom:a b',
    '',
    'a:b:c',
    'x_y-z:é',
  ),
  fc.constant(`custom:${'x'.repeat(193)}`),
  fc.constant(`custom:${'x'.repeat(194)}`),
  fc.string({ maxLength: 10 }),
  anyValue,
);
const event = fc.oneof(
  fc.record(
    { type: typeName, data: fc.oneof(anyValue, fc.jsonValue()), extra: anyValue },
    { requiredKeys: [] },
  ),
  anyValue,
);
const body = fc.oneof(
  fc.record(
    {
      stream: streamName,
      expectedVersion: fc.oneof(
        fc.constantFrom(0, 1, -1, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e300),
        anyValue,
      ),
      events: fc.oneof(fc.array(event, { maxLength: 4 }), anyValue),
      other: anyValue,
    },
    { requiredKeys: [] },
  ),
  anyValue,
  fc.array(anyValue, { maxLength: 2 }),
);

describe('the hand-written check of POST /v1/events bodies', () => {
  it('accepts exactly what AppendRequest accepts, with the same result', () => {
    fc.assert(
      fc.property(body, (b) => {
        // Through JSON, as the body arrives: undefined members vanish, -0 becomes 0, and so on.
        const text = JSON.stringify(b);
        const json: unknown = text === undefined ? undefined : JSON.parse(text);
        const z = AppendRequest.safeParse(json);
        const fast = checkAppend(json);
        expect(fast !== undefined, text).toBe(z.success);
        if (z.success) expect(fast).toEqual(z.data);
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees at the event count limits', () => {
    for (const n of [0, 1, 1000, 1001]) {
      const json = { events: Array.from({ length: n }, () => ({ type: 'custom.x' })) };
      expect(checkAppend(json) !== undefined).toBe(AppendRequest.safeParse(json).success);
    }
  });

  it("refuses with zod's own 400 message naming the field, and keeps the UTF-8 and JSON checks", () => {
    const message = (b: Buffer, f: (b: Buffer) => unknown) => {
      try {
        f(b);
      } catch (e) {
        expect(e).toBeInstanceOf(HttpError);
        return {
          status: (e as HttpError).status,
          code: (e as HttpError).code,
          message: (e as HttpError).message,
        };
      }
      throw new Error('accepted');
    };
    for (const text of [
      '{"events":[{"type":"custom.x"},{"type":7}]}',
      '{"events":[]}',
      '{"stream":"Bad Stream","events":[{"type":"custom.x"}]}',
      '{"expectedVersion":-1,"events":[{"type":"custom.x"}]}',
      '{"events":',
      '',
      '[1]',
    ]) {
      const b = Buffer.from(text);
      const got = message(b, parseAppendBody);
      expect(got).toEqual(message(b, (x) => parseJson(x, AppendRequest)));
      expect(got.status).toBe(400);
    }
    expect(message(Buffer.from('{"events":[{"type":7}]}'), parseAppendBody).message).toMatch(
      /events\[0\]\.type/,
    );
    const badUtf8 = Buffer.concat([
      Buffer.from('{"events":[{"type":"custom.x","data":"'),
      Buffer.from([0xff]),
      Buffer.from('"}]}'),
    ]);
    expect(message(badUtf8, parseAppendBody).code).toBe('invalid_utf8');
  });
});
