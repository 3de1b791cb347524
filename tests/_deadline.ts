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

/** How long a spawned process of a test may run unless the test says otherwise. */
export const PROCESS_DEADLINE_MS = 50_000;
/** How long a process's output may stay open after it exited (held by a process it started). */
const OUTPUT_AFTER_EXIT_MS = 5_000;

/** What a finished process printed, decoded. */
export interface ProcessOutput {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/**
 * Waits for `child` to exit and reads its piped output. Fails, naming `what`, when it still
 * runs after `ms` (it is then killed) or when its output stays open after it exited (a process
 * it started still holds it).
 */
export async function outputWithin(
  child: Deno.ChildProcess,
  what: string,
  ms = PROCESS_DEADLINE_MS,
): Promise<ProcessOutput> {
  const stdout = collect(child, "stdout");
  const stderr = collect(child, "stderr");
  const printed = () => `\nstdout:\n${stdout.text()}\nstderr:\n${stderr.text()}`;
  const status = await withDeadline(`${what} to exit`, ms, child.status, async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* ended meanwhile */ }
    await child.status;
    await Promise.all([stdout.stop(OUTPUT_AFTER_EXIT_MS), stderr.stop(OUTPUT_AFTER_EXIT_MS)]);
  }).catch((err) => {
    throw err instanceof Timeout ? new Timeout(err.message + printed()) : err;
  });
  const closed = await stdout.stop(OUTPUT_AFTER_EXIT_MS) && await stderr.stop(OUTPUT_AFTER_EXIT_MS);
  if (!closed) {
    throw new Timeout(
      `${what} exited (${status.code}) but its output was still open ${OUTPUT_AFTER_EXIT_MS} ms ` +
        `later: a process it started still holds it${printed()}`,
    );
  }
  return { code: status.code, signal: status.signal, stdout: stdout.text(), stderr: stderr.text() };
}

/** Reads one piped stream of `child` as text; stop() waits up to `ms` for its end, then cancels. */
function collect(child: Deno.ChildProcess, name: "stdout" | "stderr") {
  let text = "";
  let ended = false;
  let stream: ReadableStream<Uint8Array> | undefined;
  try {
    stream = child[name];
  } catch { /* not piped */ }
  const reader = stream?.pipeThrough(new TextDecoderStream()).getReader();
  const reading = (async () => {
    if (!reader) return;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  })().catch(() => {}).finally(() => ended = true);
  return {
    text: () => text,
    /** Whether the stream ended within `ms`; cancelled otherwise. */
    async stop(ms: number): Promise<boolean> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([reading, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
      clearTimeout(timer);
      const done = ended;
      if (!done) await reader?.cancel().catch(() => {});
      return done;
    },
  };
}
