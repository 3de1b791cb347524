/**
 * Sources that fail or ask for less. A URL that keeps failing waits 1 minute, then 2, 4 … up to
 * a day, and is tried again on its own when the wait ends; a URL whose server or feed said when
 * to come back (Retry-After, max-age, Expires, ttl, skipHours, skipDays) waits that long; a 429
 * holds every URL of its host. The gate decides from the store's holds and says what to write.
 */
import type { SaveSourceHoldsOptions, SourceHold } from "../db/store.ts";
import { outsideSkips, type RefetchHint } from "./_hints.ts";

/** What one fetch of a URL came to. */
export interface SourceOutcome {
  url: string;
  /** The error, when the fetch failed. */
  error?: string;
  /** The HTTP status of a failed fetch, when the server answered. */
  status?: number;
  /** What the source said about its next fetch. */
  hint?: RefetchHint;
}

/** A URL discovery left alone, and until when. */
export interface HeldSource {
  url: string;
  untilAt: number;
  reason: string;
}

/** Wait after the first failure in a row; doubled after each further one. */
export const BACKOFF_FIRST_MS = 60_000;
/** Longest wait after failures. */
export const BACKOFF_MAX_MS = 24 * 3_600_000;

/** The wait after `failures` failures in a row. */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, failures - 1));
}

/** The end of `hold` as of `now`: its until_at, moved out of skipped hours and days. */
export function holdEnd(hold: SourceHold, now: number): number {
  const skips = hold.skipHours.length > 0 || hold.skipDays.length > 0;
  const skipped = skips ? outsideSkips(now, hold.skipHours, hold.skipDays) : now;
  return Math.max(hold.untilAt, skipped);
}

/** Whether `hold` keeps its source from being read at `now`. */
export function holds(hold: SourceHold, now: number): boolean {
  return holdEnd(hold, now) > now;
}

/** The host of `url` (lower case), or the URL itself when it does not parse. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return url;
  }
}

/** The holds of one discovery: which URLs to leave alone now, and what to write afterwards. */
export class SourceGate {
  #urls = new Map<string, SourceHold>();
  #hosts = new Map<string, SourceHold>();
  #outcomes = new Map<string, SourceOutcome>();
  /** The URLs held() kept discovery from reading, in order. */
  readonly refused: HeldSource[] = [];

  constructor(
    stored: readonly SourceHold[],
    private readonly jobId: string,
    private readonly now: () => number,
  ) {
    for (const hold of stored) {
      (hold.scope === "url" ? this.#urls : this.#hosts).set(hold.target, hold);
    }
  }

  /** Why `url` may not be read now, or undefined when it may. */
  held(url: string): HeldSource | undefined {
    const now = this.now();
    const own = this.#urls.get(url);
    const host = this.#hosts.get(hostOf(url));
    const hold = [own, host].filter((h): h is SourceHold => h !== undefined && holds(h, now))
      .sort((a, b) => holdEnd(b, now) - holdEnd(a, now))[0];
    if (!hold) return undefined;
    const held = { url, untilAt: holdEnd(hold, now), reason: describe(hold) };
    this.refused.push(held);
    return held;
  }

  /** Whether discovery read nothing because every URL it tried was held. */
  onlyHeld(): boolean {
    return this.refused.length > 0 && this.#outcomes.size === 0;
  }

  /** Records what a fetch of a URL came to; the last outcome of a URL counts. */
  note(outcome: SourceOutcome): void {
    this.#outcomes.set(outcome.url, outcome);
  }

  /**
   * A 429 from `outcome.url`: from now on held() keeps every URL of its host, so the rest of
   * this discovery (a sitemap index's other children) leaves the host alone too.
   */
  rateLimited(outcome: SourceOutcome): void {
    const hold = this.#hostHold(outcome, this.#urls.get(outcome.url), this.now());
    this.#hosts.set(hold.target, hold);
  }

  /** The holds to write and to remove for the outcomes noted. */
  changes(): SaveSourceHoldsOptions {
    const now = this.now();
    const put: SourceHold[] = [];
    const clear: SaveSourceHoldsOptions["clear"][number][] = [];
    for (const outcome of this.#outcomes.values()) {
      const previous = this.#urls.get(outcome.url);
      const hold = outcome.error === undefined
        ? this.#waitAsked(outcome, now)
        : this.#failed(outcome, previous, now);
      if (hold) put.push(hold);
      else if (previous) clear.push({ scope: "url", target: outcome.url });
      if (outcome.status === 429) put.push(this.#hostHold(outcome, previous, now));
    }
    return { put, clear: [...clear, ...this.#forgotten(now)] };
  }

  /**
   * The job's holds of sources it no longer reads (a child sitemap gone from its index): those
   * this discovery did not touch, over for longer than the longest backoff.
   */
  #forgotten(now: number): SaveSourceHoldsOptions["clear"][number][] {
    return [...this.#urls.values(), ...this.#hosts.values()]
      .filter((h) => h.jobId === this.jobId && !this.#outcomes.has(h.target))
      .filter((h) => !holds(h, now) && h.untilAt + BACKOFF_MAX_MS < now)
      .map(({ scope, target }) => ({ scope, target }));
  }

  /** After a failure: the next of the exponential waits, or longer if the server asked. */
  #failed(outcome: SourceOutcome, previous: SourceHold | undefined, now: number): SourceHold {
    const failures = (previous?.failures ?? 0) + 1;
    const backoff = now + backoffMs(failures);
    const asked = outcome.hint?.notBefore ?? 0;
    const times = failures === 1 ? "once" : `${failures} times in a row`;
    const rules = asked > backoff ? `; ${rulesText(outcome.hint!)}` : "";
    return this.#hold(outcome, {
      failures,
      untilAt: Math.max(backoff, asked),
      reason: `failed ${times}${rules}`,
      error: outcome.error ?? null,
    }, now);
  }

  /** After a success: the wait the source asked for, if any. */
  #waitAsked(outcome: SourceOutcome, now: number): SourceHold | undefined {
    const hint = outcome.hint;
    if (!hint) return undefined;
    const skips = (hint.skipHours?.length ?? 0) + (hint.skipDays?.length ?? 0) > 0;
    if (hint.notBefore <= now && !skips) return undefined;
    return this.#hold(outcome, {
      failures: 0,
      untilAt: hint.notBefore,
      reason: rulesText(hint),
      error: null,
    }, now);
  }

  /** A 429 holds the whole host until its Retry-After (or the URL's backoff without one). */
  #hostHold(outcome: SourceOutcome, previous: SourceHold | undefined, now: number): SourceHold {
    const retry = outcome.hint?.rules.find((r) => r.rule === "retry-after");
    const host = hostOf(outcome.url);
    return {
      scope: "host",
      target: host,
      host,
      jobId: this.jobId,
      failures: 0,
      untilAt: retry?.notBefore ?? now + backoffMs((previous?.failures ?? 0) + 1),
      reason: `HTTP 429 from ${outcome.url}` + (retry ? ` (Retry-After: ${retry.value})` : ""),
      error: null,
      skipHours: [],
      skipDays: [],
      updatedAt: now,
    };
  }

  #hold(
    outcome: SourceOutcome,
    what: Pick<SourceHold, "failures" | "untilAt" | "reason" | "error">,
    now: number,
  ): SourceHold {
    return {
      scope: "url",
      target: outcome.url,
      host: hostOf(outcome.url),
      jobId: this.jobId,
      ...what,
      skipHours: outcome.hint?.skipHours ?? [],
      skipDays: outcome.hint?.skipDays ?? [],
      updatedAt: now,
    };
  }
}

/** "ttl: 60, max-age=300" — the rules as the source wrote them. */
function rulesText(hint: RefetchHint): string {
  return hint.rules.map((r) => r.rule === "max-age" ? r.value : `${r.rule}: ${r.value}`)
    .join(", ");
}

/** The reason of a hold, for messages. */
export function describe(hold: SourceHold): string {
  return hold.error ? `${hold.reason}: ${hold.error}` : hold.reason;
}
