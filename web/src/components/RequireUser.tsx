import type { ReactNode } from 'react';
import { Link, useLocation } from 'react-router-dom';
import { hasRole, useSession } from '../lib/session';
import { Spinner } from './common';

/** Shows children to a signed-in user (holding `role` when given), else says what is needed. */
export function RequireUser({ role, children }: { role?: string; children: ReactNode }) {
  const { user, loading } = useSession();
  const loc = useLocation();
  if (loading) return <Spinner />;
  if (!user)
    return (
      <section>
        <h1>Sign in needed</h1>
        <p>
          <Link to={`/signin?next=${encodeURIComponent(loc.pathname + loc.search)}`}>Sign in</Link> to see this page.
        </p>
      </section>
    );
  if (role && !hasRole(user, role) && !(role === 'moderator' && hasRole(user, 'admin')))
    return (
      <section>
        <h1>Not available</h1>
        <p>
          This page is for the {role} role.
          {role === 'developer' && (
            <>
              {' '}
              <Link to="/become-developer">Become a developer</Link>.
            </>
          )}
        </p>
      </section>
    );
  return <>{children}</>;
}
