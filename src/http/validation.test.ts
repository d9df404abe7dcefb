import Type from 'typebox';
import Value from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { fieldProblems, problemsMessage } from './validation.js';

const Form = Type.Object(
  {
    tasks: Type.Optional(Type.String()),
    tiling: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('off'), Type.Literal('on')])),
    threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    collection: Type.Optional(Type.String({ pattern: '^[a-z]+$', description: 'Lower-case letters' })),
    name: Type.String(),
  },
  { additionalProperties: false },
);

describe('fieldProblems', () => {
  it('names an unknown field and lists the allowed ones, instead of "schema is false"', () => {
    const problems = fieldProblems([...Value.Errors(Form, { name: 'x', colour: 'blue' })], Form);
    expect(problems).toEqual([{ field: 'colour', problem: 'is not a field of this request', allowed: ['tasks', 'tiling', 'threshold', 'collection', 'name'] }]);
  });

  it('gives one line with the allowed values for a union of literals, not one per branch', () => {
    const problems = fieldProblems([...Value.Errors(Form, { name: 'x', tiling: 'maybe' })], Form);
    expect(problems).toEqual([{ field: 'tiling', problem: 'is not one of the allowed values', allowed: ['auto', 'off', 'on'] }]);
    expect(problemsMessage('form', problems)).toBe("invalid form: 'tiling' is not one of the allowed values (allowed: auto, off, on)");
  });

  it('says which field is missing, what range a number needs, and what a pattern means', () => {
    const problems = fieldProblems([...Value.Errors(Form, { threshold: 2, collection: '../x' })], Form);
    expect(problems).toEqual(
      expect.arrayContaining([
        { field: 'name', problem: 'is required' },
        { field: 'threshold', problem: 'must be <= 1' },
        { field: 'collection', problem: 'must be lower-case letters' },
      ]),
    );
  });

  it('reads ajv errors (Fastify) the same way', () => {
    const problems = fieldProblems(
      [
        { keyword: 'additionalProperties', instancePath: '', schemaPath: '#/additionalProperties', params: { additionalProperty: 'owner' } },
        { keyword: 'required', instancePath: '', schemaPath: '#/required', params: { missingProperty: 'url' } },
      ],
      { type: 'object', properties: { url: {}, events: {} } },
    );
    expect(problems).toEqual([
      { field: 'owner', problem: 'is not a field of this request', allowed: ['url', 'events'] },
      { field: 'url', problem: 'is required' },
    ]);
  });
});
