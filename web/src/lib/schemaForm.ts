// Turns a tool's input schema (the API's JSON Schema subset) into form fields, and the form's text
// values back into the JSON input. Only a top-level object with properties becomes a form; any other
// schema is edited as raw JSON.
import type { JsonSchema } from './types';

export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';

export interface FormField {
  name: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  options?: unknown[];
  schema: JsonSchema;
}

export function formFields(schema: JsonSchema | null | undefined): FormField[] | null {
  if (!schema || schema.type !== 'object' || typeof schema.properties !== 'object' || !schema.properties) return null;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(schema.properties as Record<string, JsonSchema>).map(([name, s]) => ({
    name,
    kind: fieldKind(s),
    required: required.has(name),
    description: typeof s.description === 'string' ? s.description : undefined,
    options: Array.isArray(s.enum) ? s.enum : undefined,
    schema: s,
  }));
}

function fieldKind(s: JsonSchema): FieldKind {
  if (Array.isArray(s.enum)) return 'enum';
  switch (s.type) {
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
      return s.type;
    default:
      return 'json';
  }
}

export function initialValues(fields: FormField[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const f of fields) {
    const d = f.schema.default;
    if (d === undefined) values[f.name] = f.kind === 'boolean' ? 'false' : '';
    else values[f.name] = f.kind === 'string' ? String(d) : JSON.stringify(d);
  }
  return values;
}

export interface BuildResult {
  input: Record<string, unknown>;
  errors: Record<string, string>;
}

/** The JSON input from the form's text values. Empty optional fields are left out; the errors
 * here are only what the browser can tell (a number that is not one, JSON that does not parse) —
 * the API checks the schema and its errors are shown next to the same fields. */
export function buildInput(fields: FormField[], values: Record<string, string>): BuildResult {
  const input: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const raw = values[f.name] ?? '';
    if (raw === '' && f.kind !== 'string') continue;
    if (raw === '' && !f.required) continue;
    const v = convert(f, raw);
    if (v.error) errors[f.name] = v.error;
    else input[f.name] = v.value;
  }
  return { input, errors };
}

function convert(f: FormField, raw: string): { value?: unknown; error?: string } {
  switch (f.kind) {
    case 'string':
      return { value: raw };
    case 'boolean':
      return { value: raw === 'true' };
    case 'number':
    case 'integer': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) return { error: 'must be a number' };
      if (f.kind === 'integer' && !Number.isInteger(n)) return { error: 'must be a whole number' };
      return { value: n };
    }
    case 'enum': {
      const hit = (f.options ?? []).find((o) => optionKey(o) === raw);
      return hit === undefined ? { error: 'choose one of the options' } : { value: hit };
    }
    default:
      try {
        return { value: JSON.parse(raw) };
      } catch {
        return { error: 'must be valid JSON' };
      }
  }
}

/** The select value that stands for an enum option. */
export function optionKey(o: unknown): string {
  return typeof o === 'string' ? o : JSON.stringify(o);
}

/** The API names input fields `input.name` (or `input.a.b`, `input[0]`); the form field is the
 * first member after `input`. Errors on the whole input (`input`) go to the form. */
export function inputFieldOf(apiField: string): string | null {
  const m = /^input(?:\.([^.[\]]+)|\[)/.exec(apiField);
  return m && m[1] ? m[1] : null;
}
