import { useState } from 'react';
import { ApiError } from '../lib/api';
import { ErrorBox } from './common';

/** A choice and a note: reports (note optional) and moderation actions (note required). */
export function ReasonForm({
  id,
  title,
  reasons,
  submitLabel,
  optionalNote,
  onSubmit,
}: {
  id: string;
  title: string;
  reasons: string[];
  submitLabel: string;
  optionalNote?: boolean;
  onSubmit: (reason: string, note: string) => Promise<void>;
}) {
  const [reason, setReason] = useState(reasons[0]);
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const fields = error instanceof ApiError ? error.fieldErrors : {};
  return (
    <form
      className="inline-form"
      aria-label={title}
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        try {
          await onSubmit(reason, text);
        } catch (err) {
          setError(err);
        }
      }}
    >
      <ErrorBox error={error} />
      <div className="field">
        <label htmlFor={`${id}-reason`}>{optionalNote ? 'Reason' : 'Action'}</label>
        <select id={`${id}-reason`} value={reason} onChange={(e) => setReason(e.target.value)}>
          {reasons.map((x) => (
            <option key={x} value={x}>
              {x.replace('_', ' ')}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-note`}>{optionalNote ? 'Details (optional)' : 'Note (required)'}</label>
        <textarea id={`${id}-note`} rows={2} value={text} onChange={(e) => setText(e.target.value)} maxLength={1000} />
        {(fields.note || fields.detail) && (
          <small className="field-error" role="alert">
            {fields.note || fields.detail}
          </small>
        )}
      </div>
      <button type="submit">{submitLabel}</button>
    </form>
  );
}
