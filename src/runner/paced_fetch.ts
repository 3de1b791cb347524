/** ctx.fetch: fetch paced per domain, slowing a domain down after 429 or Retry-After. */
import type { Rate } from "../util/units.ts";
import type { Pacer } from "./pacer.ts";

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
    const retryAfter = retryAfterMs(response.headers.get("retry-after"));
    if (response.status === 429 || (response.status === 503 && retryAfter !== undefined)) {
      pacer.slowDown(key, retryAfter ?? 1000);
    }
    return response;
  };
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), if any. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && header.trim() !== "") return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
