import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type Envelope, type Relay, RelayError } from './api';

export interface Resource<T> {
  data: T | undefined;
  error: RelayError | undefined;
  reload: () => void;
}

function asRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  return new RelayError(0, 'error', error instanceof Error ? error.message : String(error));
}

/**
 * Loads `load()` now, whenever `keys` change, and on `reload()`. Keeps showing the last data
 * while it reloads, and runs at most one load at a time: reloads asked for meanwhile become one
 * more load after it, so a burst of live events costs two requests, not one each.
 */
export function useResource<T>(load: () => Promise<T>, keys: unknown[]): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<RelayError | undefined>(undefined);
  const state = useRef({ running: false, again: false, generation: 0 });
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(async () => {
    const s = state.current;
    if (s.running) {
      s.again = true;
      return;
    }
    s.running = true;
    do {
      s.again = false;
      const generation = s.generation;
      try {
        const value = await loadRef.current();
        if (generation === s.generation) {
          setData(() => value);
          setError(undefined);
        }
      } catch (failure) {
        if (generation === s.generation) setError(asRelayError(failure));
      }
    } while (s.again);
    s.running = false;
  }, []);

  useEffect(() => {
    // New keys: what was shown belongs to the old ones.
    state.current.generation++;
    state.current.again = state.current.running;
    setData(undefined);
    setError(undefined);
    void run();
  }, keys);

  return { data, error, reload: run };
}

/** Runs a person's action, keeping its error to show and whether it is in flight. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<RelayError | undefined>(undefined);
  const run = useCallback(async <T>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await action();
    } catch (failure) {
      setError(asRelayError(failure));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(undefined) };
}

/** A form's SEND as the agent in view: the new message's id once sent, and the action's state. */
export function useSend(relay: Relay, agentId: string, onSent: () => void) {
  const action = useAction();
  const [sent, setSent] = useState<string | null>(null);
  const send = async (build: () => Pick<Envelope, 'type' | 'to' | 'subject' | 'body' | 'correlation_id'>) => {
    setSent(null);
    // Building runs inside the action, so a body that is not JSON shows as the form's error.
    const id = await action.run(() => relay.send(agentId, build()));
    if (id) {
      setSent(id);
      onSent();
    }
  };
  return { ...action, sent, send };
}
