/** The URLs one discovery requested and what each came to, told to the gate at its end. */
import { DiscoveryError } from "./_http.ts";
import type { RefetchHint } from "./_hints.ts";
import type { HeldSource, SourceGate } from "./_holds.ts";
import { redactUrl } from "../util/url.ts";

/** Per requested URL, whether and how it failed. */
export class SourceTally {
  #fetched = new Map<string, { error?: string; status?: number }>();

  /** `url` is being requested. */
  requested(url: string): void {
    this.#fetched.set(url, {});
  }

  /** `url` failed with `error` (a held URL was not requested and is not counted). */
  failed(url: string, error: DiscoveryError): void {
    if (!error.held) this.#fetched.set(url, { error: error.message, status: error.status });
  }

  /** Tells `gate` every URL's outcome with what its source said. */
  report(gate: SourceGate | undefined, hintFor: (url: string) => RefetchHint | undefined): void {
    for (const [url, failure] of this.#fetched) gate?.note({ url, ...failure, hint: hintFor(url) });
  }
}

/** The error of a URL not requested because it is held. */
export function heldError(held: HeldSource): DiscoveryError {
  const error = new DiscoveryError(heldMessage(held), { url: redactUrl(held.url) });
  error.held = held;
  return error;
}

/** "Not reading URL until TIME: reason". */
export function heldMessage(held: HeldSource): string {
  const until = new Date(held.untilAt).toISOString();
  return `Not reading ${redactUrl(held.url)} until ${until}: ${held.reason}`;
}
