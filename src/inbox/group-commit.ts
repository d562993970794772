/** One item's result from a grouped statement: its own value or its own error. */
export type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** Runs the items of one group as one statement and answers each, in the order given. */
export type Flush<I, O> = (items: I[]) => Promise<Outcome<O>[]>;

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

interface Lane<I, O> {
  waiting: Waiting<I, O>[];
  running: number;
  flush: Flush<I, O>;
}

/**
 * Group commit: concurrent calls of one kind (SENDs, ACKs, leases of one inbox) that arrive while
 * that kind's statements are already running wait for one of them to finish and then go to the
 * database together, as one statement. Under light load nothing waits: a call finds a free slot
 * and runs at once, alone. Under load, each statement carries everything that queued behind the
 * last, so the database pays one round trip, one plan and one commit for many callers. Every
 * caller still gets exactly its own result or its own error.
 */
export class GroupCommit {
  private readonly lanes = new Map<string, Lane<unknown, unknown>>();

  /**
   * @param slots statements of one lane that may run at once; the rest of the callers queue.
   * @param maxGroup the most items one statement carries.
   */
  constructor(
    private readonly slots = 2,
    private readonly maxGroup = 100,
  ) {}

  submit<I, O>(laneKey: string, item: I, flush: Flush<I, O>): Promise<O> {
    let lane = this.lanes.get(laneKey) as Lane<I, O> | undefined;
    if (!lane) {
      lane = { waiting: [], running: 0, flush };
      this.lanes.set(laneKey, lane as Lane<unknown, unknown>);
    }
    const promise = new Promise<O>((resolve, reject) => {
      (lane as Lane<I, O>).waiting.push({ item, resolve, reject });
    });
    this.drain(laneKey, lane);
    return promise;
  }

  private drain<I, O>(laneKey: string, lane: Lane<I, O>): void {
    while (lane.running < this.slots && lane.waiting.length > 0) {
      const group = lane.waiting.splice(0, this.maxGroup);
      lane.running += 1;
      void this.run(lane, group).finally(() => {
        lane.running -= 1;
        if (lane.waiting.length > 0) this.drain(laneKey, lane);
        else if (lane.running === 0) this.lanes.delete(laneKey);
      });
    }
  }

  private async run<I, O>(lane: Lane<I, O>, group: Waiting<I, O>[]): Promise<void> {
    try {
      const outcomes = await lane.flush(group.map((w) => w.item));
      group.forEach((w, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) w.resolve(outcome.value);
        else w.reject(outcome ? outcome.error : new Error('a grouped statement returned too few results'));
      });
    } catch (error) {
      for (const w of group) w.reject(error);
    }
  }
}

/** Settles each promise into an Outcome, for flushes that answer items one by one. */
export async function outcomes<O>(promises: Promise<O>[]): Promise<Outcome<O>[]> {
  const settled = await Promise.allSettled(promises);
  return settled.map((s) =>
    s.status === 'fulfilled' ? { ok: true, value: s.value } : { ok: false, error: s.reason },
  );
}
