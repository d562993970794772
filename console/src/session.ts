/** Who the page acts as: the key, and the agent it was given for (null: the relay's admin key). */
export interface Session {
  key: string;
  agentId: string | null;
}

// Session storage only: the key lives as long as the tab, is never written to local storage,
// and never appears in a URL.
const STORAGE_KEY = 'admp.console.session';

export function loadSession(): Session | null {
  const stored = sessionStorage.getItem(STORAGE_KEY);
  if (!stored) return null;
  try {
    const session = JSON.parse(stored) as Session;
    return typeof session.key === 'string' ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
