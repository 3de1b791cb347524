/** Deadlines for the waits of tests: a regression fails in seconds, saying what it waited for. */

/** Thrown when a wait passes its deadline. */
export class Timeout extends Error {
  override name = "Timeout";
}

/**
 * Resolves with `work`, or rejects with a Timeout naming `what` once `ms` have passed; `onLate`
 * runs first then (kill what would otherwise keep running).
 */
export async function withDeadline<T>(
  what: string,
  ms: number,
  work: Promise<T> | (() => Promise<T>),
  onLate?: () => void | Promise<void>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), ms));
  const running = typeof work === "function" ? work() : work;
  try {
    const outcome = await Promise.race([running, late]);
    if (outcome !== "late") return outcome as T;
  } finally {
    clearTimeout(timer);
  }
  running.catch(() => {});
  await onLate?.();
  throw new Timeout(`Timed out after ${ms} ms waiting for ${what}`);
}

/** Splits a text stream into its lines (without the line breaks). */
export function lineSplitter(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, out) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) out.enqueue(line);
    },
    flush(out) {
      if (rest) out.enqueue(rest);
    },
  });
}
