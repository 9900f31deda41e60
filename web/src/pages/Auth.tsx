import { useState, type FormEvent } from 'react';
import { useSubmit } from '../lib/useSubmit';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { Field, ErrorBox } from '../components/common';
import { RequireUser } from '../components/RequireUser';
import { api } from '../lib/api';
import { useSession } from '../lib/session';

/** Only same-site paths are followed after sign-in (never another origin). */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function SignIn() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { error, fields, busy, run } = useSubmit();
  const { refresh } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      // The answer's token is not kept: the session rides in the HttpOnly cookie.
      await api.post('/auth/login', { email, password, session: 'cookie' });
      await refresh();
      navigate(safeNext(params.get('next')));
    });
  };
  return (
    <section className="narrow">
      <h1>Sign in</h1>
      <form onSubmit={submit} noValidate>
        <ErrorBox error={error} />
        <Field id="email" label="Email" error={fields.email} required>
          <input id="email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        </Field>
        <Field id="password" label="Password" error={fields.password} required>
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </Field>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <p>
        New here? <Link to="/register">Register</Link>
      </p>
    </section>
  );
}

export function Register() {
  const [form, setForm] = useState({ email: '', password: '', display_name: '' });
  const { error, fields, busy, run } = useSubmit();
  const { refresh } = useSession();
  const navigate = useNavigate();
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api.post('/auth/register', { ...form, session: 'cookie' });
      await refresh();
      navigate('/');
    });
  };
  return (
    <section className="narrow">
      <h1>Register</h1>
      <form onSubmit={submit} noValidate>
        <ErrorBox error={error} />
        <Field id="r-name" label="Display name" error={fields.display_name} required>
          <input id="r-name" autoComplete="nickname" maxLength={80} value={form.display_name} onChange={set('display_name')} />
        </Field>
        <Field id="r-email" label="Email" error={fields.email} required>
          <input id="r-email" type="email" autoComplete="email" value={form.email} onChange={set('email')} />
        </Field>
        <Field id="r-password" label="Password" error={fields.password} required hint="At least 10 characters">
          <input id="r-password" type="password" autoComplete="new-password" value={form.password} onChange={set('password')} />
        </Field>
        <button type="submit" disabled={busy}>
          Register
        </button>
      </form>
      <p>
        Have an account? <Link to="/signin">Sign in</Link>
      </p>
    </section>
  );
}

export function BecomeDeveloper() {
  const { user, refresh } = useSession();
  const [form, setForm] = useState({ display_name: user?.display_name ?? '', bio: '', website: '' });
  const { error, fields, busy, run } = useSubmit();
  const navigate = useNavigate();
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api.post('/developers', {
        display_name: form.display_name,
        bio: form.bio || null,
        website: form.website || null,
      });
      await refresh();
      navigate('/dashboard');
    });
  };
  return (
    <RequireUser>
      <section className="narrow">
        <h1>Become a developer</h1>
        <p>Publish tools and sell them. Your developer profile is public.</p>
        <form onSubmit={submit} noValidate>
          <ErrorBox error={error} />
          <Field id="d-name" label="Public name" error={fields.display_name} required>
            <input id="d-name" maxLength={80} value={form.display_name} onChange={set('display_name')} />
          </Field>
          <Field id="d-bio" label="Bio" error={fields.bio}>
            <textarea id="d-bio" maxLength={2000} value={form.bio} onChange={set('bio')} />
          </Field>
          <Field id="d-web" label="Website" error={fields.website}>
            <input id="d-web" type="url" value={form.website} onChange={set('website')} />
          </Field>
          <button type="submit" disabled={busy}>
            Become a developer
          </button>
        </form>
      </section>
    </RequireUser>
  );
}
