/**
 * Validation errors in one shape, in words a client can act on. Both validators Argus uses (Fastify's ajv for JSON
 * bodies, query strings and paths; TypeBox's for multipart fields) report ajv-style errors; these become
 * `details: [{field, problem, allowed?}]` and a message naming the field and what is allowed — never the
 * validator's internals ("schema is false", nine "must be equal to constant" lines).
 */

/** One problem with one field. */
export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
  readonly allowed?: readonly unknown[];
}

/** An ajv- or TypeBox-style validation error. */
export interface RawValidationError {
  readonly keyword?: string;
  readonly instancePath?: string;
  readonly schemaPath?: string;
  readonly params?: Record<string, unknown>;
  readonly message?: string;
}

type Schema = Record<string, unknown>;

/** Turns raw errors (against `schema`, when known) into field problems, one per field. */
export function fieldProblems(errors: readonly RawValidationError[], schema?: unknown): FieldProblem[] {
  const byField = new Map<string, FieldProblem>();
  const consts = new Map<string, unknown[]>();
  const put = (p: FieldProblem): void => {
    if (!byField.has(p.field)) byField.set(p.field, p);
  };
  for (const e of errors) {
    const field = fieldOf(e.instancePath ?? '');
    // A branch of a union failing says little; the union's own error (anyOf/oneOf) says it for all of them.
    if (/\/(anyOf|oneOf)\/\d+/.test(e.schemaPath ?? '') && e.keyword !== 'const' && e.keyword !== 'enum') continue;
    const params = e.params ?? {};
    switch (e.keyword) {
      case 'boolean':
        // TypeBox's "schema is false" for an unknown property: the additionalProperties error says it better.
        break;
      case 'additionalProperties': {
        const names = Array.isArray(params.additionalProperties) ? (params.additionalProperties as string[]) : [String(params.additionalProperty)];
        const allowed = Object.keys(((at(schema, e.schemaPath?.replace(/\/additionalProperties$/, '')) as Schema | undefined)?.properties ?? {}));
        for (const name of names) put({ field: join(field, name), problem: 'is not a field of this request', ...(allowed.length ? { allowed } : {}) });
        break;
      }
      case 'required': {
        const missing = params.missingProperty ?? (Array.isArray(params.requiredProperties) ? (params.requiredProperties as unknown[])[0] : undefined);
        put({ field: join(field, typeof missing === 'string' ? missing : ''), problem: 'is required' });
        break;
      }
      case 'const':
      case 'enum': {
        const values = e.keyword === 'const' ? [params.allowedValue] : ((params.allowedValues as unknown[] | undefined) ?? []);
        consts.set(field, [...(consts.get(field) ?? []), ...values]);
        break;
      }
      case 'anyOf':
      case 'oneOf': {
        // The union's verdict replaces what its branches said (each branch's "must be number" is noise).
        const allowed = literalsOf(at(schema, e.schemaPath)) ?? consts.get(field);
        if (allowed && allowed.length) byField.set(field, { field, problem: 'is not one of the allowed values', allowed });
        else byField.set(field, { field, problem: 'has the wrong type or form' });
        consts.delete(field);
        break;
      }
      case 'pattern': {
        const described = (at(schema, e.schemaPath?.replace(/\/pattern$/, '')) as Schema | undefined)?.description;
        put({ field, problem: typeof described === 'string' ? `must be ${lower(described)}` : `must match ${String(params.pattern)}` });
        break;
      }
      default:
        put({ field, problem: e.message ?? 'is invalid' });
    }
  }
  // Literal unions without an anyOf error of their own (TypeBox reports them per branch).
  for (const [field, allowed] of consts) if (!byField.has(field)) put({ field, problem: 'is not one of the allowed values', allowed });
  return [...byField.values()];
}

/** A one-line message from field problems: where, which field, what is wrong, what is allowed. */
export function problemsMessage(where: string, problems: readonly FieldProblem[]): string {
  if (problems.length === 0) return `invalid ${where}`;
  const parts = problems.slice(0, 3).map((p) => `${p.field ? `'${p.field}' ` : ''}${p.problem}${p.allowed?.length ? ` (allowed: ${p.allowed.map(String).join(', ')})` : ''}`);
  const more = problems.length > 3 ? `; and ${problems.length - 3} more` : '';
  return `invalid ${where}: ${parts.join('; ')}${more}`;
}

function fieldOf(instancePath: string): string {
  return instancePath
    .replace(/^\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function join(parent: string, name: string): string {
  return parent ? `${parent}.${name}` : name;
}

function lower(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** The sub-schema at a JSON pointer like `#/properties/tiling/anyOf/0`. */
function at(schema: unknown, pointer: string | undefined): unknown {
  if (!pointer || typeof schema !== 'object' || schema === null) return undefined;
  let node: unknown = schema;
  for (const raw of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The allowed values of a union of literals (anyOf/oneOf of const or enum schemas); null when it is something else. */
function literalsOf(schema: unknown): unknown[] | null {
  // ajv points at the anyOf array itself, TypeBox at the schema holding it.
  const branches = Array.isArray(schema) ? schema : ((schema as Schema | undefined)?.anyOf ?? (schema as Schema | undefined)?.oneOf);
  if (!Array.isArray(branches)) return null;
  const values: unknown[] = [];
  for (const b of branches as Schema[]) {
    if ('const' in b) values.push(b.const);
    else if (Array.isArray(b.enum)) values.push(...(b.enum as unknown[]));
    else return null;
  }
  return values;
}
