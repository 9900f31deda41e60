import { useMemo, useState, type FormEvent } from 'react';
import { buildInput, formFields, initialValues, optionKey, type FormField } from '../lib/schemaForm';
import type { JsonSchema } from '../lib/types';
import { Field } from './common';

/** A form generated from an input schema: a control per property by its type, required marks,
 * enums as selects, and errors (the browser's or the API's) next to their fields. A schema that is
 * not an object of properties is edited as one JSON text. */
export function SchemaForm({
  schema,
  errors,
  formError,
  busy,
  submitLabel,
  onSubmit,
}: {
  schema: JsonSchema | null;
  errors: Record<string, string>;
  formError?: string;
  busy?: boolean;
  submitLabel: string;
  onSubmit: (input: unknown) => void;
}) {
  const fields = useMemo(() => formFields(schema), [schema]);
  const [values, setValues] = useState<Record<string, string>>(() => (fields ? initialValues(fields) : {}));
  const [raw, setRaw] = useState('{}');
  const [local, setLocal] = useState<Record<string, string>>({});

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!fields) {
      try {
        setLocal({});
        onSubmit(JSON.parse(raw));
      } catch {
        setLocal({ input: 'must be valid JSON' });
      }
      return;
    }
    const built = buildInput(fields, values);
    setLocal(built.errors);
    if (Object.keys(built.errors).length === 0) onSubmit(built.input);
  };
  const shown = { ...errors, ...local };

  return (
    <form onSubmit={submit} noValidate className="schema-form">
      {formError && (
        <p role="alert" className="field-error">
          {formError}
        </p>
      )}
      {fields ? (
        fields.map((f) => (
          <SchemaField
            key={f.name}
            field={f}
            value={values[f.name] ?? ''}
            error={shown[f.name]}
            onChange={(v) => setValues({ ...values, [f.name]: v })}
          />
        ))
      ) : (
        <Field id="raw-input" label="Input (JSON)" error={shown.input}>
          <textarea id="raw-input" className="code" rows={6} value={raw} onChange={(e) => setRaw(e.target.value)} />
        </Field>
      )}
      <button type="submit" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}

function SchemaField({
  field: f,
  value,
  error,
  onChange,
}: {
  field: FormField;
  value: string;
  error?: string;
  onChange: (v: string) => void;
}) {
  const id = `in-${f.name}`;
  const described = [f.description ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': described,
    'aria-required': f.required || undefined,
  };
  let control;
  switch (f.kind) {
    case 'enum':
      control = (
        <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">Choose…</option>
          {(f.options ?? []).map((o) => (
            <option key={optionKey(o)} value={optionKey(o)}>
              {optionKey(o)}
            </option>
          ))}
        </select>
      );
      break;
    case 'boolean':
      control = (
        <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="false">false</option>
          <option value="true">true</option>
        </select>
      );
      break;
    case 'number':
    case 'integer':
      control = (
        <input
          {...common}
          type="number"
          step={f.kind === 'integer' ? 1 : 'any'}
          min={typeof f.schema.minimum === 'number' ? f.schema.minimum : undefined}
          max={typeof f.schema.maximum === 'number' ? f.schema.maximum : undefined}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    case 'string':
      control = (
        <input
          {...common}
          type="text"
          maxLength={typeof f.schema.maxLength === 'number' ? f.schema.maxLength : undefined}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    default:
      control = <textarea {...common} className="code" rows={3} value={value} onChange={(e) => onChange(e.target.value)} />;
  }
  return (
    <Field
      id={id}
      label={f.kind === 'json' ? `${f.name} (JSON)` : f.name}
      required={f.required}
      error={error}
      hint={f.description}
    >
      {control}
    </Field>
  );
}
