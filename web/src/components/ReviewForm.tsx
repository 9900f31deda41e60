import { useState, type FormEvent } from 'react';
import { api } from '../lib/api';
import type { Review } from '../lib/types';
import { useSubmit } from '../lib/useSubmit';
import { ErrorBox, Field } from './common';

const TITLE_MAX = 120;
const CONTENT_MAX = 5000;

/** Counts code points, as the API does (an emoji is one character). */
export function charCount(s: string): number {
  return Array.from(s).length;
}

/** Write (toolId) or edit (existing) a review: stars, title, text with counters, the API's errors
 * next to their fields. */
export function ReviewForm({
  toolId,
  existing,
  onSaved,
  onCancel,
}: {
  toolId: string;
  existing?: Review;
  onSaved: (r: Review) => void;
  onCancel?: () => void;
}) {
  const [rating, setRating] = useState(existing?.rating ?? 0);
  const [title, setTitle] = useState(existing?.title ?? '');
  const [content, setContent] = useState(existing?.content ?? '');
  const { error, fields, busy, run } = useSubmit();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const body = { rating, title, content };
      const saved = existing
        ? await api.patch<Review>(`/reviews/${existing.id}`, body)
        : await api.post<Review>('/reviews', { tool_id: toolId, ...body });
      onSaved(saved);
    });
  };
  const tLen = charCount(title);
  const cLen = charCount(content);
  return (
    <form onSubmit={submit} noValidate className="review-form" aria-label={existing ? 'Edit your review' : 'Write a review'}>
      <ErrorBox error={error} />
      <fieldset>
        <legend>Rating (required)</legend>
        <div className="star-input">
          {[1, 2, 3, 4, 5].map((n) => (
            <label key={n}>
              <input
                type="radio"
                name="rating"
                value={n}
                checked={rating === n}
                onChange={() => setRating(n)}
                aria-label={`${n} star${n > 1 ? 's' : ''}`}
              />
              <span aria-hidden="true">{n <= rating ? '★' : '☆'}</span>
            </label>
          ))}
        </div>
        {fields.rating && (
          <small className="field-error" role="alert">
            {fields.rating}
          </small>
        )}
      </fieldset>
      <Field id="rv-title" label="Title" required error={fields.title} hint={`${tLen} / ${TITLE_MAX}`}>
        <input
          id="rv-title"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          aria-describedby="rv-title-hint"
          aria-invalid={tLen > TITLE_MAX || !!fields.title || undefined}
        />
      </Field>
      <Field id="rv-content" label="Review" required error={fields.content} hint={`${cLen} / ${CONTENT_MAX}`}>
        <textarea
          id="rv-content"
          rows={5}
          value={content}
          onChange={(e) => setContent(e.target.value)}
          aria-describedby="rv-content-hint"
          aria-invalid={cLen > CONTENT_MAX || !!fields.content || undefined}
        />
      </Field>
      <button type="submit" disabled={busy}>
        {existing ? 'Save review' : 'Submit review'}
      </button>
      {onCancel && (
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      )}
    </form>
  );
}
