import { fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SchemaForm } from '../../src/components/SchemaForm';
import { buildInput, formFields, inputFieldOf } from '../../src/lib/schemaForm';

const schema = {
  type: 'object',
  required: ['text', 'mode'],
  properties: {
    text: { type: 'string', description: 'what to transform', maxLength: 50 },
    times: { type: 'integer', minimum: 1 },
    ratio: { type: 'number' },
    loud: { type: 'boolean' },
    mode: { enum: ['upper', 'lower'] },
    extra: { type: 'object' },
  },
};

describe('SchemaForm', () => {
  it('renders a control per property by type, with required marks and enums as selects', () => {
    render(<SchemaForm schema={schema} errors={{}} submitLabel="Run" onSubmit={() => undefined} />);
    expect(screen.getByLabelText(/^text/)).toHaveAttribute('type', 'text');
    expect(screen.getByLabelText(/^text/)).toHaveAttribute('aria-required', 'true');
    expect(screen.getByLabelText(/^times/)).toHaveAttribute('type', 'number');
    expect(screen.getByLabelText(/^times/)).toHaveAttribute('step', '1');
    expect(screen.getByLabelText(/^times/)).not.toHaveAttribute('aria-required');
    expect(screen.getByLabelText(/^ratio/)).toHaveAttribute('step', 'any');
    expect(screen.getByLabelText(/^loud/).tagName).toBe('SELECT');
    const mode = screen.getByLabelText(/^mode/);
    expect(mode.tagName).toBe('SELECT');
    expect([...mode.querySelectorAll('option')].map((o) => o.textContent)).toEqual(['Choose…', 'upper', 'lower']);
    expect(screen.getByLabelText(/^extra \(JSON\)/).tagName).toBe('TEXTAREA');
    expect(screen.getByText('what to transform')).toBeInTheDocument();
  });

  it('submits typed values and leaves empty optional fields out', async () => {
    const onSubmit = vi.fn();
    render(<SchemaForm schema={schema} errors={{}} submitLabel="Run" onSubmit={onSubmit} />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/^text/), 'hello');
    await user.type(screen.getByLabelText(/^times/), '3');
    await user.selectOptions(screen.getByLabelText(/^mode/), 'upper');
    await user.selectOptions(screen.getByLabelText(/^loud/), 'true');
    await user.click(screen.getByRole('button', { name: 'Run' }));
    expect(onSubmit).toHaveBeenCalledWith({ text: 'hello', times: 3, mode: 'upper', loud: true });
  });

  it('shows the API errors next to their fields', () => {
    render(
      <SchemaForm schema={schema} errors={{ text: 'expected at most 50 characters' }} submitLabel="Run" onSubmit={() => undefined} />,
    );
    const input = screen.getByLabelText(/^text/);
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input.getAttribute('aria-describedby')).toContain('in-text-error');
    expect(document.getElementById('in-text-error')).toHaveTextContent('expected at most 50 characters');
  });

  it('keeps the form from sending JSON that does not parse', () => {
    const onSubmit = vi.fn();
    render(<SchemaForm schema={schema} errors={{}} submitLabel="Run" onSubmit={onSubmit} />);
    fireEvent.change(screen.getByLabelText(/^extra/), { target: { value: '{oops' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText('must be valid JSON')).toBeInTheDocument();
  });

  it('falls back to one JSON editor for a schema that is not an object of properties', async () => {
    const onSubmit = vi.fn();
    render(<SchemaForm schema={{ type: 'array' }} errors={{}} submitLabel="Run" onSubmit={onSubmit} />);
    fireEvent.change(screen.getByLabelText('Input (JSON)'), { target: { value: '[1,2]' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect(onSubmit).toHaveBeenCalledWith([1, 2]);
  });
});

describe('schema form helpers', () => {
  it('maps API field names to form fields', () => {
    expect(inputFieldOf('input.text')).toBe('text');
    expect(inputFieldOf('input.extra.deep')).toBe('extra');
    expect(inputFieldOf('input')).toBeNull();
    expect(inputFieldOf('output.x')).toBeNull();
    expect(inputFieldOf('inputs.x')).toBeNull();
  });
  it('reports numbers that are not numbers', () => {
    const fields = formFields(schema)!;
    const r = buildInput(fields, { text: 'a', times: '2.5', ratio: 'x', mode: 'lower', loud: 'false' });
    expect(r.errors).toEqual({ times: 'must be a whole number', ratio: 'must be a number' });
  });
  it('sends an empty required string (the API names it)', () => {
    const fields = formFields(schema)!;
    expect(buildInput(fields, { text: '', mode: 'upper' }).input).toEqual({ text: '', mode: 'upper' });
  });
});
