/**
 * Properties of AI-settings parsing over arbitrary settings objects: any valid object parses to the same value
 * whether its keys are written in snake_case, camelCase or PascalCase (mixed freely); a key that is no spelling of a
 * setting, a setting given twice, or a value out of range is always refused with VALIDATION_ERROR. Values are drawn
 * from the schema itself, so a setting added later is covered without touching this file.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AiSettingsSchema, parseAiSettingsPatch, toSnakeCase, type AiSettingsPatch } from './ai-settings.js';
import { isAppError, type AppError } from './errors.js';

/** The JSON-schema facts of one setting that the generators need. */
interface SettingSchema {
  readonly type: 'number' | 'integer' | 'string' | 'array';
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minLength?: number;
  readonly maxItems?: number;
  readonly items?: SettingSchema;
  readonly default: unknown;
}

const SCHEMAS = AiSettingsSchema.properties as unknown as Record<string, SettingSchema>;
const KEYS = Object.keys(SCHEMAS);

/** Valid values of a setting, from its schema: within its range, of its type. */
function validValue(s: SettingSchema): fc.Arbitrary<unknown> {
  switch (s.type) {
    case 'integer':
      return fc.integer({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6 });
    case 'number': {
      const min = s.minimum ?? s.exclusiveMinimum ?? -1e6;
      const max = s.maximum ?? 1e6;
      const edges = [min, max, (min + max) / 2].filter((v) => v !== s.exclusiveMinimum);
      return fc.oneof(fc.constantFrom(...edges), fc.double({ min, max, noNaN: true, minExcluded: s.exclusiveMinimum !== undefined }));
    }
    case 'string':
      return fc.string({ minLength: s.minLength ?? 0, maxLength: 20 });
    case 'array':
      return fc.array(validValue(s.items!), { maxLength: Math.min(s.maxItems ?? 5, 5) });
  }
}

/** Values a setting must refuse: out of its range, a fraction for an integer, the wrong type, null. */
function invalidValue(s: SettingSchema): fc.Arbitrary<unknown> {
  const wrongType = fc.constantFrom<unknown>(null, true, {}, s.type === 'string' ? 5 : 'x', s.type === 'array' ? 'dog' : [1]);
  switch (s.type) {
    case 'integer':
    case 'number': {
      const out: fc.Arbitrary<unknown>[] = [wrongType, fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)];
      // Filtered: fast-check counts -0 as below 0, but it is the same number.
      const min = s.minimum;
      if (min !== undefined) out.push(fc.double({ max: min, maxExcluded: true, noNaN: true, noDefaultInfinity: true }).filter((v) => v < min));
      if (s.exclusiveMinimum !== undefined) out.push(fc.double({ max: s.exclusiveMinimum, noNaN: true, noDefaultInfinity: true }));
      if (s.maximum !== undefined) out.push(fc.double({ min: s.maximum, minExcluded: true, noNaN: true, noDefaultInfinity: true }));
      if (s.type === 'integer') out.push(fc.integer({ min: s.minimum ?? -1e6, max: (s.maximum ?? 1e6) - 1 }).map((v) => v + 0.5));
      return fc.oneof(...out);
    }
    case 'string':
      return fc.oneof(wrongType, fc.constant(''));
    case 'array':
      return fc.oneof(wrongType, fc.constant([1]), fc.constant(['']), fc.constant(Array.from({ length: (s.maxItems ?? 100) + 1 }, () => 'dog')));
  }
}

const camel = (snake: string): string => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const pascal = (snake: string): string => camel(snake).replace(/^[a-z]/, (c) => c.toUpperCase());
const casing = fc.constantFrom((k: string) => k, camel, pascal);

/** A valid patch: some settings with valid values, snake_case keys. */
const patch: fc.Arbitrary<Record<string, unknown>> = fc.record(Object.fromEntries(KEYS.map((k) => [k, validValue(SCHEMAS[k]!)])), {
  requiredKeys: [],
});

/** The same patch with each key written in a casing of its own. */
const writtenInCasings = patch.chain((p) =>
  fc
    .array(casing, { minLength: KEYS.length, maxLength: KEYS.length })
    .map((cs) => ({ snake: p, written: Object.fromEntries(Object.entries(p).map(([k, v], i) => [cs[i]!(k), v])) })),
);

/** The AppError a call throws, or null when it returns. */
function refusal(input: unknown): AppError | null {
  try {
    parseAiSettingsPatch(input);
    return null;
  } catch (err) {
    if (isAppError(err)) return err;
    throw err;
  }
}

/**
 * Spellings of setting names: in one of the casings (or upper case), or with letters in random case, and at most one
 * letter swapped for a Unicode character whose lower case is that letter or which looks like it.
 */
const lookalike: Record<string, string> = { k: '\u212a', i: '\u0130', s: '\u017f', a: '\u0430', e: '\u0435', o: '\u043e' };
const randomCase = (k: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: k.length, maxLength: k.length }).map((up) => [...k].map((ch, i) => (up[i] ? ch.toUpperCase() : ch)).join(''));
const spelling = fc.constantFrom(...KEYS).chain((k) =>
  fc
    .tuple(fc.oneof(fc.constantFrom(k, camel(k), pascal(k), k.toUpperCase()), randomCase(k)), fc.option(fc.nat()))
    .map(([cased, swap]) => {
      const chars = [...cased];
      const swappable = chars.flatMap((ch, i) => (lookalike[ch.toLowerCase()] ? [i] : []));
      if (swap !== null && swappable.length) {
        const at = swappable[swap % swappable.length]!;
        chars[at] = lookalike[chars[at]!.toLowerCase()]!;
      }
      return { key: k, spelled: chars.join('') };
    }),
);

describe('toSnakeCase properties', () => {
  it('maps every setting written in snake_case, camelCase or PascalCase to its snake_case name', () => {
    for (const k of KEYS) {
      expect(toSnakeCase(k)).toBe(k);
      expect(toSnakeCase(camel(k))).toBe(k);
      expect(toSnakeCase(pascal(k))).toBe(k);
    }
  });

  it('round-trips any snake_case identifier through camelCase and PascalCase, and is idempotent', () => {
    // Words of two letters or more: a one-letter word has no round trip ("a_a" is "AA" in PascalCase, which reads
    // as an acronym, "aa"); no setting has one.
    const word = fc.stringMatching(/^[a-z]{2,8}[0-9]{0,2}$/);
    const snake = fc.array(word, { minLength: 1, maxLength: 5 }).map((ws) => ws.join('_'));
    fc.assert(
      fc.property(snake, (s) => {
        expect(toSnakeCase(s)).toBe(s);
        expect(toSnakeCase(camel(s))).toBe(s);
        expect(toSnakeCase(pascal(s))).toBe(s);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (s) => {
        expect(toSnakeCase(toSnakeCase(s))).toBe(toSnakeCase(s));
      }),
    );
  });
});

describe('AI settings: cases the properties found', () => {
  it('refuses a setting name spelled with a Unicode character that lower-cases to an ASCII letter', () => {
    // U+212A KELVIN SIGN: "\u212a".toLowerCase() is "k".
    expect(refusal({ 'trac\u212aing_min_hits': 3 })?.code).toBe('VALIDATION_ERROR');
    expect(refusal({ TRAC\u212aING_MIN_HITS: 3 })?.code).toBe('VALIDATION_ERROR');
    expect(toSnakeCase('trac\u212aingMinHits')).not.toBe('tracking_min_hits');
  });
});

describe('parseAiSettingsPatch properties', () => {
  it('parses a valid patch to the same value whatever casing each key is written in', () => {
    fc.assert(
      fc.property(writtenInCasings, ({ snake, written }) => {
        const parsed: AiSettingsPatch = parseAiSettingsPatch(written);
        expect(parsed).toEqual(snake);
        expect(parseAiSettingsPatch(snake)).toEqual(parsed);
        // The answer is snake_case, so it parses to itself.
        expect(parseAiSettingsPatch(parsed)).toEqual(parsed);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses any patch with a key that is no spelling of a setting, and names the key', () => {
    const unknownKey = fc
      .oneof(
        fc.string({ maxLength: 30 }),
        fc.string({ unit: 'binary', maxLength: 30 }),
        fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', ''),
        // Near misses: a setting with a letter dropped, doubled or changed, or doubled underscores.
        fc.tuple(fc.constantFrom(...KEYS), fc.nat(), fc.constantFrom('drop', 'double', 'x', '__')).map(([k, at, how]) => {
          const i = at % k.length;
          if (how === 'drop') return k.slice(0, i) + k.slice(i + 1);
          if (how === 'double') return k.slice(0, i) + k[i]! + k.slice(i);
          if (how === '__') return k.replace('_', '__');
          return k.slice(0, i) + 'x' + k.slice(i + 1);
        }),
      )
      .filter((k) => !KEYS.includes(toSnakeCase(k)));
    fc.assert(
      fc.property(patch, unknownKey, fc.jsonValue(), (p, key, value) => {
        // A computed key makes "__proto__" an own property, as JSON.parse does with a body that names it.
        const err = refusal({ ...p, [key]: value });
        expect(err?.code).toBe('VALIDATION_ERROR');
        expect(err?.statusCode).toBe(422);
        expect((err?.details as { unknown: string[] }).unknown).toContain(key);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts a key only when it is an ASCII spelling of a setting, and files it under that setting', () => {
    fc.assert(
      fc.property(spelling, ({ key, spelled }) => {
        const value = SCHEMAS[key]!.default;
        const ascii = /^[A-Za-z_]+$/.test(spelled);
        const err = refusal({ [spelled]: value });
        if (err === null) {
          // Unicode case mapping must not smuggle a look-alike in: U+212A KELVIN SIGN lower-cases to "k".
          expect(ascii).toBe(true);
          expect(parseAiSettingsPatch({ [spelled]: value })).toEqual({ [toSnakeCase(spelled)]: value });
        } else expect(err.code).toBe('VALIDATION_ERROR');
        if (ascii && toSnakeCase(spelled) === key) expect(err).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a setting given twice in different casings', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KEYS), fc.constantFrom(camel, pascal), (k, other) => {
        // A one-word setting ("classes") is its own camelCase.
        fc.pre(other(k) !== k);
        const value = SCHEMAS[k]!.default;
        const err = refusal({ [k]: value, [other(k)]: value });
        expect(err?.code).toBe('VALIDATION_ERROR');
        expect(err?.message).toContain('more than once');
      }),
    );
  });

  it('refuses a value out of range or of the wrong type, whatever else the patch holds', () => {
    const bad = fc.constantFrom(...KEYS).chain((k) => fc.tuple(fc.constant(k), invalidValue(SCHEMAS[k]!), casing));
    fc.assert(
      fc.property(patch, bad, (p, [k, v, c]) => {
        const input = { ...Object.fromEntries(Object.entries(p).filter(([key]) => key !== k)), [c(k)]: v };
        const err = refusal(input);
        expect(err?.code).toBe('VALIDATION_ERROR');
        expect(err?.message).toContain(k);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses anything that is not a plain object', () => {
    const notObject = fc.oneof(fc.constantFrom(null, undefined), fc.string(), fc.double(), fc.boolean(), fc.array(fc.anything(), { maxLength: 3 }));
    fc.assert(
      fc.property(notObject, (input) => {
        expect(refusal(input)?.code).toBe('VALIDATION_ERROR');
      }),
    );
  });
});
