import { sql } from 'drizzle-orm';
import { type Db, firstRow } from '../db/database.js';

export interface Admission {
  /** An HMAC signature to remember until `expiresAtSec`; refused if it was seen before. */
  nonce?: { signature: string; expiresAtSec: number } | undefined;
  /** A request to count against `bucket` in the current fixed window of `windowSec`. */
  counter?: { bucket: string; windowSec: number } | undefined;
}

export interface Admitted {
  replayed: boolean;
  /** Requests counted in the current window, this one included; 0 when nothing was counted. */
  requests: number;
  /** Seconds until the current window ends: the Retry-After of a refusal. */
  resetSec: number;
}

/**
 * What the database must decide for an authenticated request, in one statement so that it is
 * right across every relay process sharing the database: whether an HMAC signature is new, and
 * how many requests its credential has made this window. The clock is the database's, so relays
 * whose clocks differ still share one window. rate_window is UNLOGGED (drizzle/0003): counters
 * need no WAL, and losing them in a crash only forgives a minute's requests.
 */
export async function admit(db: Db, a: Admission): Promise<Admitted> {
  const signature = a.nonce?.signature ?? null;
  const bucket = a.counter?.bucket ?? null;
  const windowSec = a.counter?.windowSec ?? 60;
  const row = await firstRow<{ fresh: boolean; requests: number | null; reset_sec: number }>(
    db,
    sql`
      with win as (
        select to_timestamp(floor(extract(epoch from now()) / ${windowSec}::int) * ${windowSec}::int) as start
      ), seen as (
        insert into request_signature (signature, expires_at)
        select ${signature}::text, to_timestamp(${a.nonce?.expiresAtSec ?? 0})
        where ${signature}::text is not null
        on conflict do nothing
        returning 1
      ), counted as (
        insert into rate_window (bucket, window_start, expires_at, requests)
        select ${bucket}::text, win.start, win.start + make_interval(secs => ${windowSec}::int), 1 from win
        where ${bucket}::text is not null
        on conflict (bucket, window_start) do update set requests = rate_window.requests + 1
        returning requests
      )
      select ${signature}::text is null or exists (select 1 from seen) as fresh,
        (select requests from counted) as requests,
        ceil(extract(epoch from (select start from win) + make_interval(secs => ${windowSec}::int) - now()))::int as reset_sec`,
  );
  return {
    replayed: row?.fresh === false,
    requests: Number(row?.requests ?? 0),
    resetSec: Math.max(1, Number(row?.reset_sec ?? windowSec)),
  };
}

/** Forgets signatures past their window and counters past theirs; run with the TTL sweep. */
export async function purgeAdmissions(db: Db): Promise<void> {
  await db.execute(sql`
    with a as (delete from request_signature where expires_at < now())
    delete from rate_window where expires_at < now()`);
}
