/** ctx.fetch: fetch paced per domain, slowing a domain down after 429 or Retry-After. */
import type { Rate } from "../util/units.ts";
import type { Pacer } from "./pacer.ts";
import { retryAfterMs } from "../util/retry_after.ts";

/** The fetch a handler gets. */
export type PacedFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** A fetch that waits for the domain's slot at `rate` and honours 429 / Retry-After. */
export function createPacedFetch(
  pacer: Pacer,
  rate: Rate | undefined,
  signal: AbortSignal,
): PacedFetch {
  return async (input, init) => {
    const url = new URL(input);
    const key = `domain:${url.host}`;
    // Without a rate the domain is still held back after a 429 / Retry-After.
    if (rate) await pacer.wait(key, rate, signal);
    else await pacer.waitHeld(key, signal);
    const response = await fetch(url, { ...init, signal: init?.signal ?? signal });
    const retryAfter = retryAfterMs(response.headers.get("retry-after"), Date.now());
    if (response.status === 429 || (response.status === 503 && retryAfter !== undefined)) {
      pacer.slowDown(key, retryAfter ?? 1000);
    }
    return response;
  };
}
