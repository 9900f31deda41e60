// The builder's "common fields" view of a schema: an object's properties as rows. Editing a row
// rewrites the JSON text; keywords the rows do not show (minimum, enum, …) are kept.
import type { JsonSchema } from './types';

export interface PropRow {
  name: string;
  type: string;
  required: boolean;
}

export const PROP_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'];

export function rowsOf(text: string): PropRow[] | null {
  let s: JsonSchema;
  try {
    s = JSON.parse(text);
  } catch {
    return null;
  }
  if (!s || typeof s !== 'object' || Array.isArray(s)) return null;
  if (Object.keys(s).length === 0) return [];
  if (s.type !== 'object') return null;
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const req = new Set((s.required as string[]) ?? []);
  return Object.entries(props).map(([name, p]) => ({ name, type: String(p.type ?? 'string'), required: req.has(name) }));
}

export function withRows(text: string, rows: PropRow[]): string {
  let s: JsonSchema = {};
  try {
    s = JSON.parse(text) ?? {};
  } catch {
    /* rows only exist for parsed text */
  }
  const old = (s.properties ?? {}) as Record<string, JsonSchema>;
  const properties: Record<string, JsonSchema> = {};
  for (const r of rows) {
    if (!r.name) continue;
    const prev = old[r.name] ?? {};
    properties[r.name] = { ...prev, type: r.type };
  }
  const required = rows.filter((r) => r.name && r.required).map((r) => r.name);
  const next: JsonSchema = { ...s, type: 'object', properties };
  if (required.length) next.required = required;
  else delete next.required;
  return JSON.stringify(next, null, 2);
}
