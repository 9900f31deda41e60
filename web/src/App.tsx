import { lazy, Suspense, useEffect, useRef } from 'react';
import { Link, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { Spinner } from './components/common';
import { hasRole, useSession } from './lib/session';
import Home from './pages/Home';
import SearchPage from './pages/Search';
import ToolPage from './pages/ToolPage';
import { BecomeDeveloper, Register, SignIn } from './pages/Auth';
import MyTools from './pages/MyTools';

// The builder (CodeMirror), the charts (uPlot) and the staff screens load on demand, keeping the
// home page's first load small.
const Builder = lazy(() => import('./pages/Builder'));
const Dashboard = lazy(() => import('./pages/Dashboard'));
const Analytics = lazy(() => import('./pages/Analytics'));
const Plugins = lazy(() => import('./pages/Plugins'));
const Moderation = lazy(() => import('./pages/Moderation'));
const ApiKeys = lazy(() => import('./pages/ApiKeys'));

function Header() {
  const { user, signOut } = useSession();
  const navigate = useNavigate();
  const dev = hasRole(user, 'developer');
  const staff = hasRole(user, 'moderator') || hasRole(user, 'admin');
  return (
    <header className="top">
      <Link to="/" className="brand">
        Marketplace
      </Link>
      <nav aria-label="Main">
        <NavLink to="/search">Browse</NavLink>
        <NavLink to="/plugins">Plugins</NavLink>
        {user && <NavLink to="/me/tools">My tools</NavLink>}
        {user && <NavLink to="/me/api-keys">API keys</NavLink>}
        {dev && <NavLink to="/dashboard">Dashboard</NavLink>}
        {dev && <NavLink to="/analytics">Analytics</NavLink>}
        {dev && <NavLink to="/builder/new">New tool</NavLink>}
        {staff && <NavLink to="/moderation">Moderation</NavLink>}
        {user && !dev && <NavLink to="/become-developer">Become a developer</NavLink>}
        {user ? (
          <button
            type="button"
            className="link"
            onClick={async () => {
              await signOut();
              navigate('/');
            }}
          >
            Sign out
          </button>
        ) : (
          <>
            <NavLink to="/signin">Sign in</NavLink>
            <NavLink to="/register">Register</NavLink>
          </>
        )}
      </nav>
    </header>
  );
}

/** Moves focus to the new page's main region on navigation, so keyboard and screen-reader users
 * start at the content. */
function useFocusOnNavigate() {
  const { pathname } = useLocation();
  const ref = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    ref.current?.focus();
  }, [pathname]);
  return ref;
}

export default function App() {
  const mainRef = useFocusOnNavigate();
  return (
    <>
      <a href="#main" className="skip">
        Skip to content
      </a>
      <Header />
      <main id="main" ref={mainRef} tabIndex={-1}>
        <Suspense fallback={<Spinner />}>
          <Routes>
            <Route path="/" element={<Home />} />
            <Route path="/search" element={<SearchPage />} />
            <Route path="/tools/:ref" element={<ToolPage />} />
            <Route path="/signin" element={<SignIn />} />
            <Route path="/register" element={<Register />} />
            <Route path="/become-developer" element={<BecomeDeveloper />} />
            <Route path="/me/tools" element={<MyTools />} />
            <Route path="/me/api-keys" element={<ApiKeys />} />
            <Route path="/builder/new" element={<Builder />} />
            <Route path="/builder/:ref" element={<Builder />} />
            <Route path="/dashboard" element={<Dashboard />} />
            <Route path="/analytics" element={<Analytics />} />
            <Route path="/plugins" element={<Plugins />} />
            <Route path="/plugins/:name" element={<Plugins />} />
            <Route path="/moderation" element={<Moderation />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Go to the home page</Link> or <Link to="/search">browse the tools</Link>.
      </p>
    </section>
  );
}
