/** How every command and the dashboard write money, counts, counted words and error messages. */

// Made at the first amount written: building it costs a run that writes none ~15 ms at start.
let USD: Intl.NumberFormat | undefined;

/** An amount in US dollars: $2.00, $0.025, $0.0004, $0.000042, $1,234.50. */
export function usd(amount: number): string {
  // Two to four decimals, or two significant digits for amounts under a hundredth of a cent,
  // so that float noise (0.024999999999999998) never shows and tiny costs do not read as $0.00.
  USD ??= new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: 2,
    maximumFractionDigits: 4,
    maximumSignificantDigits: 2,
    roundingPriority: "morePrecision",
  });
  return USD.format(amount);
}

/** A whole number with thousands separators: 1234567 is "1,234,567". */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** `n` and `word`, with an "s" (or `plural`) unless n is 1: "1 item", "2 attempts". */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${count(n)} ${n === 1 ? word : pluralWord}`;
}

/** What an event says; a cost event's amount is written by usd(), whatever its stored text. */
export function eventMessage(
  event: { kind: string; message: string; costUsd: number | null },
): string {
  return event.kind === "cost" && event.costUsd !== null ? usd(event.costUsd) : event.message;
}

/** Characters kept of the start of a message before its last line, at the least. */
const MIN_HEAD = 12;

/**
 * An error message on one line of at most `max` characters. When it is longer, its end is kept,
 * because that is where the reason is (a traceback's or a command's stderr's last line): the
 * start (cut at a space), an ellipsis and the last line; or, when the last line alone is too
 * long, its end.
 */
export function errorGist(message: string, max: number): string {
  const lines = message.split("\n").map((l) => l.replace(/\s+/g, " ").trim()).filter(Boolean);
  const whole = lines.join(" ");
  if (whole.length <= max) return whole;
  const last = lines[lines.length - 1];
  const head = max - last.length - 2;
  if (lines.length === 1 || head < MIN_HEAD) return `…${last.slice(last.length - max + 1)}`;
  const start = whole.slice(0, head);
  const space = start.lastIndexOf(" ");
  return `${space >= MIN_HEAD ? start.slice(0, space) : start}… ${last}`;
}

/** The error an item listing shows: its failed stage's, else the first a stage kept (a retry's). */
export function itemError(
  stages: readonly { status: string; error: string | null }[],
): string | undefined {
  return stages.find((s) => s.status === "failed")?.error ??
    stages.find((s) => s.error !== null)?.error ?? undefined;
}
