// The dashboard shell: sign-in, navigation and hash routing (#/jobs/<id>, ...).
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentSession, signIn, signOut, whenSignedOut } from './api.js';
import { Agent, Datasets, Deployments, JobDetail, Jobs, Knowledge, Models, Overview, Payments, Workers } from './pages.js';
import { ErrorBox, html, Loading } from './widgets.js';

const PAGES = [
  { path: 'overview', label: 'Overview', view: Overview },
  { path: 'jobs', label: 'Jobs', view: Jobs },
  { path: 'workers', label: 'Workers', view: Workers },
  { path: 'datasets', label: 'Datasets', view: Datasets },
  { path: 'models', label: 'Models', view: Models },
  { path: 'deployments', label: 'Deployments', view: Deployments },
  { path: 'knowledge', label: 'Knowledge', view: Knowledge },
  { path: 'payments', label: 'Payments', view: Payments },
  { path: 'agent', label: 'Agent runs', view: Agent },
];

function parseRoute() {
  const [page = 'overview', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const param = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  return { page, param };
}

function useRoute() {
  const [route, setRoute] = useState(parseRoute());
  useEffect(() => {
    const changed = () => setRoute(parseRoute());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

function SignIn({ onSignedIn, notice }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const key = new FormData(event.currentTarget).get('key')?.toString().trim() ?? '';
    setBusy(true);
    setError(null);
    try {
      await signIn(key);
      event.currentTarget?.reset?.();
      onSignedIn(await currentSession());
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin" id="main">
    <h1>Anvil</h1>
    <form onSubmit=${submit} aria-describedby="signin-help">
      <label for="api-key">API key</label>
      <input id="api-key" name="key" type="password" autocomplete="off" required autofocus spellcheck="false" />
      <p id="signin-help" class="muted">The key is checked once and exchanged for a session; it is not kept in the browser. Create one with <code>${'anvil keys create --project <p> --scopes <s>'}</code>.</p>
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    <${ErrorBox} error=${error} />
  </main>`;
}

function Shell({ session, onSignOut }) {
  const route = useRoute();
  const main = useRef(null);
  const page = PAGES.find((one) => one.path === route.page) ?? PAGES[0];
  const View = route.page === 'jobs' && route.param ? JobDetail : page.view;
  const navigated = useRef(false);
  useEffect(() => {
    document.title = `${page.label} · Anvil`;
    // After navigating (not on first load), focus moves to the new page's content, as a page load would put it.
    if (navigated.current) main.current?.focus();
    navigated.current = true;
  }, [route.page, route.param]);
  return html`<a class="skip" href="#main" onClick=${(event) => { event.preventDefault(); main.current?.focus(); }}>Skip to content</a>
    <header>
      <span class="brand">Anvil</span>
      <nav aria-label="Pages"><ul>
        ${PAGES.map((one) => html`<li><a href=${`#/${one.path}`} aria-current=${one === page ? 'page' : undefined}>${one.label}</a></li>`)}
      </ul></nav>
      <span class="who">Project <strong data-testid="project">${session.project}</strong> · ${session.principal}
        <button type="button" onClick=${onSignOut}>Sign out</button></span>
    </header>
    <main id="main" tabindex="-1" ref=${main}>
      <${View} session=${session} id=${route.param} name=${route.param} key=${`${route.page}/${route.param ?? ''}`} />
    </main>`;
}

function App() {
  const [session, setSession] = useState(undefined);
  const [notice, setNotice] = useState('');
  useEffect(() => {
    whenSignedOut(() => {
      setSession(null);
      setNotice('Your session ended (signed out, expired, or the key was revoked). Sign in again.');
    });
    currentSession().then(setSession, () => setSession(null));
  }, []);
  if (session === undefined) return html`<${Loading} what="session" />`;
  if (session === null) return html`<${SignIn} notice=${notice} onSignedIn=${(next) => { setNotice(''); setSession(next); }} />`;
  return html`<${Shell} session=${session} onSignOut=${async () => { await signOut(); setSession(null); setNotice('Signed out.'); }} />`;
}

render(html`<${App} />`, document.getElementById('app'));
