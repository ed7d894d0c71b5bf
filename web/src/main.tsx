import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, messageOf, session, signIn, signOut, signUp, type SessionUser } from './api.js';
import { AppContext, type ActivityTypeInfo, type AppState } from './context.js';
import { loadUnits, saveUnits, type Units } from './format.js';
import { ActivityPage } from './activity.js';
import { ImportPage } from './import.js';
import { SettingsPage } from './settings.js';
import { TimelinePage } from './timeline.js';
import './style.css';

/** Hash routes: #/ (timeline), #/activity/<id>, #/import, #/settings. */
function useRoute(): string {
  const [route, setRoute] = useState(location.hash.replace(/^#/, '') || '/');
  useEffect(() => {
    const onChange = () => {
      setRoute(location.hash.replace(/^#/, '') || '/');
      // Keyboard and screen-reader users land on the new page's heading.
      requestAnimationFrame(() => document.querySelector<HTMLElement>('main h1')?.focus());
    };
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function SignIn({ onSignedIn }: { onSignedIn: (user: SessionUser) => void }) {
  const [mode, setMode] = useState<'in' | 'up'>('in');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const email = String(form.get('email'));
    const password = String(form.get('password'));
    setBusy(true);
    setError(null);
    try {
      const answer = mode === 'up' ? await signUp(String(form.get('name')), email, password) : await signIn(email, password);
      onSignedIn(answer.user);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="auth">
      <h1 tabIndex={-1}>{mode === 'up' ? 'Create an account' : 'Sign in'}</h1>
      <form onSubmit={submit} class="stack">
        {mode === 'up' && (
          <label>
            Name
            <input name="name" required autoComplete="name" />
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" required autoComplete="email" />
        </label>
        <label>
          Password
          <input name="password" type="password" required minLength={8} autoComplete={mode === 'up' ? 'new-password' : 'current-password'} />
        </label>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {mode === 'up' ? 'Sign up' : 'Sign in'}
        </button>
      </form>
      <p>
        {mode === 'up' ? 'Have an account? ' : 'New here? '}
        <button type="button" class="link" onClick={() => setMode(mode === 'up' ? 'in' : 'up')}>
          {mode === 'up' ? 'Sign in' : 'Create an account'}
        </button>
      </p>
    </main>
  );
}

function Page({ route }: { route: string }) {
  const activity = /^\/activity\/([0-9a-f-]{36})$/.exec(route);
  if (activity) return <ActivityPage id={activity[1]!} />;
  if (route === '/import') return <ImportPage />;
  if (route === '/settings') return <SettingsPage />;
  return <TimelinePage />;
}

const loadBasics = () => Promise.all([api.athletes.list({}), api.activityTypes.list({})]);
/**
 * The athlete and the catalog, asked for at once beside the session check rather than after it (one
 * round trip less before the timeline); used when the session turns out to exist.
 */
const initialSession = session();
let prefetched: ReturnType<typeof loadBasics> | undefined = loadBasics();
prefetched.catch(() => undefined);

function App() {
  const route = useRoute();
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);
  const [state, setState] = useState<Omit<AppState, 'units' | 'setUnits'> | null>(null);
  const [units, setUnitsState] = useState<Units>(loadUnits());
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    initialSession.then(setUser, () => setUser(null));
  }, []);
  useEffect(() => {
    if (!user) return;
    const early = prefetched;
    prefetched = undefined;
    (early ?? loadBasics())
      // Read before the session was known: signed out then, so read again now.
      .catch(() => loadBasics())
      .then(([athletes, types]) => {
        const athlete = athletes.items[0];
        if (!athlete) throw new Error('This account has no athlete');
        const byslug = new Map<string, ActivityTypeInfo>(types.items.map((type) => [type.slug, { slug: type.slug, displayName: type.name, category: type.category }]));
        setState({ athleteId: athlete.id, athleteName: athlete.displayName, types: byslug });
      })
      .catch((caught: unknown) => setError(messageOf(caught)));
  }, [user]);

  if (user === undefined) return <p class="loading">Loading…</p>;
  if (user === null) return <SignIn onSignedIn={setUser} />;
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!state) return <p class="loading">Loading…</p>;

  const setUnits = (next: Units) => {
    saveUnits(next);
    setUnitsState(next);
  };
  const current = (path: string) => (route === path || (path === '/' && route.startsWith('/activity/')) ? 'page' : undefined);
  return (
    <AppContext.Provider value={{ ...state, units, setUnits }}>
      <a class="skip" href="#main" onClick={(event) => { event.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <nav aria-label="Main">
          <a href="#/" aria-current={current('/')}>Timeline</a>
          <a href="#/import" aria-current={current('/import')}>Import</a>
          <a href="#/settings" aria-current={current('/settings')}>Sources &amp; export</a>
        </nav>
        <div class="account">
          <label>
            Units{' '}
            <select value={units} onChange={(event) => setUnits((event.currentTarget as HTMLSelectElement).value as Units)}>
              <option value="metric">km</option>
              <option value="imperial">mi</option>
            </select>
          </label>
          <span class="who">{user.name}</span>
          <button
            type="button"
            onClick={async () => {
              await signOut();
              location.hash = '#/';
              setState(null);
              setUser(null);
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </AppContext.Provider>
  );
}

render(<App />, document.getElementById('root')!);
