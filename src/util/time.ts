/** Lengths of time in milliseconds, and waiting. */

/** One minute in milliseconds. */
export const MINUTE_MS = 60_000;
/** One hour in milliseconds. */
export const HOUR_MS = 3_600_000;
/** One (UTC) day in milliseconds. */
export const DAY_MS = 86_400_000;
