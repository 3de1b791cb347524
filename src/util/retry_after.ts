/** HTTP's Retry-After header. */

/**
 * Milliseconds a Retry-After value asks to wait: whole seconds or an HTTP date (a date in the
 * past is 0); undefined when there is none or it is neither.
 */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
