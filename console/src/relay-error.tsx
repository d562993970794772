import type { RelayError } from './api';

/** The relay's own message for a failed call, announced to screen readers as it appears. */
export function ErrorNote({ error }: { error: RelayError | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error.message}
      {error.code !== 'error' && error.code !== 'unreachable' ? (
        <span class="code"> ({error.code})</span>
      ) : null}
    </p>
  );
}
