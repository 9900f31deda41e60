import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { charCount, ReviewForm } from '../../src/components/ReviewForm';

afterEach(() => vi.unstubAllGlobals());

describe('ReviewForm', () => {
  it('counts characters as code points', () => {
    expect(charCount('héllo 👍')).toBe(7);
  });

  it('shows counters and puts the API errors next to their fields', async () => {
    const fetchMock = vi.fn(async () =>
      new Response(
        JSON.stringify({
          status: 422,
          title: 'Unprocessable Content',
          detail: 'the review has invalid fields',
          errors: [
            { field: 'rating', message: 'must be an integer from 1 to 5' },
            { field: 'content', message: 'must not be empty' },
          ],
        }),
        { status: 422, headers: { 'Content-Type': 'application/problem+json' } },
      ),
    );
    vi.stubGlobal('fetch', fetchMock);
    const onSaved = vi.fn();
    render(<ReviewForm toolId="7" onSaved={onSaved} />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/^Title/), 'Great');
    expect(screen.getByText('5 / 120')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Submit review' }));
    await waitFor(() => expect(screen.getByText('must not be empty')).toBeInTheDocument());
    expect(screen.getByText('must be an integer from 1 to 5')).toBeInTheDocument();
    expect(screen.getByText('the review has invalid fields')).toBeInTheDocument();
    expect(onSaved).not.toHaveBeenCalled();
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/marketplace/reviews');
    expect(JSON.parse(String(init.body))).toEqual({ tool_id: '7', rating: 0, title: 'Great', content: '' });
  });

  it('edits an existing review with PATCH', async () => {
    const review = {
      id: '12', tool_id: '7', author: { id: '1', display_name: 'A' }, rating: 4, title: 'Good', content: 'Nice',
      verified_purchase: true, helpful_count: 0, unhelpful_count: 0, status: 'visible', created_at: '', updated_at: '', response: null,
    };
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ ...review, rating: 5 }), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    const onSaved = vi.fn();
    render(<ReviewForm toolId="7" existing={review} onSaved={onSaved} />);
    const user = userEvent.setup();
    await user.click(screen.getByLabelText('5 stars'));
    await user.click(screen.getByRole('button', { name: 'Save review' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/marketplace/reviews/12');
    expect(init.method).toBe('PATCH');
    expect(JSON.parse(String(init.body))).toEqual({ rating: 5, title: 'Good', content: 'Nice' });
  });
});
