/** What one discovery learns besides its items: warnings, failed sources, refetch hints. */
import {
  type FeedSchedule,
  httpRules,
  type RefetchHint,
  refetchHint,
  type RefetchRule,
  ttlRules,
} from "./_hints.ts";

/** A source that failed without failing the discovery (a broken child sitemap). */
export interface FailedSource {
  url: string;
  /** The HTTP status, when the server answered with an error. */
  status?: number;
  error: string;
}

/** Warnings kept per discovery; past this, one line says how many more there were. */
const MAX_WARNINGS = 200;

/** Collects warnings, failures and refetch rules while a discovery runs. */
export class Findings {
  readonly warnings: string[] = [];
  readonly failed: FailedSource[] = [];
  #dropped = 0;
  #rules = new Map<string, RefetchRule[]>();
  #schedules = new Map<string, FeedSchedule>();

  /** Keeps `message`; returns false when the cap is reached and it was only counted. */
  warn(message: string): boolean {
    if (this.warnings.length < MAX_WARNINGS) {
      this.warnings.push(message);
      return true;
    }
    this.#dropped++;
    return false;
  }

  /** Records what an HTTP response (or error response) of `url` says about the next fetch. */
  noteResponse(url: string, headers: Headers, status: number, now: number): void {
    const rules = httpRules(headers, status, now);
    if (rules.length) this.#rules.set(url, [...(this.#rules.get(url) ?? []), ...rules]);
  }

  /** Records a feed's ttl, skipHours and skipDays for `url`. */
  noteSchedule(url: string, schedule: FeedSchedule, now: number): void {
    const rules = ttlRules(schedule, now);
    if (rules.length) this.#rules.set(url, [...(this.#rules.get(url) ?? []), ...rules]);
    if (schedule.skipHours?.length || schedule.skipDays?.length) {
      this.#schedules.set(url, schedule);
    }
  }

  /** The refetch hint of one URL, if its source said anything. */
  hintFor(url: string, now: number): RefetchHint | undefined {
    return refetchHint(url, this.#rules.get(url) ?? [], {
      now,
      schedule: this.#schedules.get(url),
    });
  }

  /** Every URL's hint, in the order the URLs were first noted. */
  hints(now: number): RefetchHint[] {
    const urls = new Set([...this.#rules.keys(), ...this.#schedules.keys()]);
    return [...urls].map((url) => this.hintFor(url, now)!).filter(Boolean);
  }

  /** The warnings, with a last line counting those past the cap. */
  allWarnings(): string[] {
    if (this.#dropped === 0) return [...this.warnings];
    return [...this.warnings, `${this.#dropped} more warnings not shown`];
  }
}
