// The page's only door to Anvil: the dashboard's session endpoints and `POST /ui/api/call/:tool`,
// which runs a tool as the signed-in key. The CSRF token comes from GET /ui/api/session and goes
// back in X-Anvil-CSRF on every call; the session itself is an httpOnly cookie the page never sees.

let csrf = '';
let onSignedOut = () => {};

export class ToolError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

async function answer(response) {
  const body = await response.json().catch(() => ({}));
  if (response.ok) return body;
  const error = body.error ?? {};
  const code = typeof error === 'object' ? error.code : undefined;
  const message = typeof error === 'object' ? error.message : String(error);
  if (response.status === 401) onSignedOut();
  throw new ToolError(code ?? `HTTP ${response.status}`, message ?? response.statusText, response.status);
}

/** The signed-in session (project, principal, scopes, tools), or null when signed out. */
export async function currentSession() {
  const response = await fetch('/ui/api/session', { credentials: 'same-origin' });
  if (response.status === 401) return null;
  const session = await answer(response);
  csrf = session.csrf;
  return session;
}

export async function signIn(key) {
  const response = await fetch('/ui/api/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { authorization: `Bearer ${key}` },
  });
  if (response.status === 401 || response.status === 403) {
    const body = await response.json().catch(() => ({}));
    const text = body?.error?.message ?? body?.error ?? 'the key was refused';
    throw new ToolError('ANVIL_E_UNAUTHENTICATED', String(text).replace(/^ANVIL_E_[A-Z_]+:\s*/, ''), response.status);
  }
  return answer(response);
}

export async function signOut() {
  await fetch('/ui/api/session', { method: 'DELETE', credentials: 'same-origin', headers: { 'x-anvil-csrf': csrf } });
  csrf = '';
}

/** Calls a tool as the signed-in key; resolves to its structured result, rejects with a ToolError. */
export async function call(tool, args = {}) {
  const response = await fetch(`/ui/api/call/${encodeURIComponent(tool)}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-anvil-csrf': csrf },
    body: JSON.stringify({ arguments: args }),
  });
  return (await answer(response)).result;
}
