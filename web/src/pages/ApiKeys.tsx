import { useState, type FormEvent } from 'react';
import { Async, ErrorBox, Field } from '../components/common';
import { RequireUser } from '../components/RequireUser';
import { api } from '../lib/api';
import { apiKeyBody, toolsError, type ApiKey, type CreatedApiKey } from '../lib/apiKeys';
import { day } from '../lib/format';
import { useApi } from '../lib/useApi';
import { useSubmit } from '../lib/useSubmit';

export default function ApiKeys() {
  return (
    <RequireUser>
      <ApiKeysPanel />
    </RequireUser>
  );
}

/** The page without the sign-in gate: make a key (shown once), list and revoke. */
export function ApiKeysPanel() {
  const list = useApi<{ items: ApiKey[] }>('/me/api-keys');
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  return (
    <>
      <h1>API keys</h1>
      <p>
        A key lets your own code run tools: send it as <code>Authorization: Bearer mk_…</code> to{' '}
        <code>POST /api/marketplace/tools/&#123;tool&#125;/execute</code>. It can run tools and read public data,
        nothing else.
      </p>
      {created ? (
        <NewKey created={created} onDone={() => setCreated(null)} />
      ) : (
        <CreateForm
          onCreated={(k) => {
            setCreated(k);
            list.reload();
          }}
        />
      )}
      <section aria-labelledby="keys-h">
        <h2 id="keys-h">Your keys</h2>
        <Async state={list}>
          {(d) => (d.items.length === 0 ? <p className="muted">No API keys yet.</p> : <KeyTable keys={d.items} onRevoked={list.reload} />)}
        </Async>
      </section>
    </>
  );
}

function CreateForm({ onCreated }: { onCreated: (k: CreatedApiKey) => void }) {
  const [name, setName] = useState('');
  const [tools, setTools] = useState('');
  const [expires, setExpires] = useState('');
  const { error, fields, busy, run } = useSubmit();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      onCreated(await api.post<CreatedApiKey>('/me/api-keys', apiKeyBody(name, tools, expires)));
      setName('');
      setTools('');
      setExpires('');
    });
  };
  return (
    <form onSubmit={submit} className="inline-form" aria-label="Create an API key" noValidate>
      <h2>Create a key</h2>
      <ErrorBox error={error} />
      <Field id="ak-name" label="Key name" error={fields.name} required>
        <input id="ak-name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field id="ak-tools" label="Tool ids (optional)" error={toolsError(fields)} hint="Separated by commas; none: every tool you may run">
        <input id="ak-tools" value={tools} onChange={(e) => setTools(e.target.value)} />
      </Field>
      <Field id="ak-expires" label="Expires on (optional)" error={fields.expires_at}>
        <input id="ak-expires" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
      </Field>
      <button type="submit" disabled={busy}>
        Create key
      </button>
    </form>
  );
}

/** The key, this once: it cannot be shown again. */
function NewKey({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('Copied.');
    } catch {
      setCopied('Copying failed: select the key and copy it yourself.');
    }
  };
  return (
    <section aria-labelledby="newkey-h" className="new-key">
      <h2 id="newkey-h">Your new key “{created.name}”</h2>
      <p role="alert">Copy it now: this is the only time it is shown.</p>
      <p>
        <code aria-label="New API key" className="secret">
          {created.key}
        </code>
      </p>
      <button type="button" onClick={copy}>
        Copy key
      </button>{' '}
      <button type="button" onClick={onDone}>
        Done
      </button>
      {copied && <p role="status">{copied}</p>}
    </section>
  );
}

function KeyTable({ keys, onRevoked }: { keys: ApiKey[]; onRevoked: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const revoke = async (k: ApiKey) => {
    setError(null);
    try {
      await api.del(`/me/api-keys/${k.id}`);
      onRevoked();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="table-wrap">
      <ErrorBox error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Tools</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col">Requests today</th>
            <th scope="col">Revoke</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>{k.tools.length ? k.tools.join(', ') : 'all'}</td>
              <td>{day(k.created_at)}</td>
              <td>{k.last_used_at ? day(k.last_used_at) : 'never'}</td>
              <td>{k.expires_at ? `${day(k.expires_at)}${k.expired ? ' (expired)' : ''}` : 'never'}</td>
              <td>{k.requests_today}</td>
              <td>
                <button type="button" onClick={() => void revoke(k)} aria-label={`Revoke ${k.name}`}>
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
