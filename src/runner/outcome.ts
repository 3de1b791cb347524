/** How a handler's return or throw becomes a stage outcome. */
import { describeThrown, PermanentError } from "../util/errors.ts";

/** Thrown by ctx.skip(reason): the stage ends as skipped. */
export class SkipSignal extends Error {
  override name = "SkipSignal";
}

/** Thrown when the handler should run again after a delay (a 429, exit code 75). */
export class RetryLaterError extends Error {
  override name = "RetryLaterError";
  constructor(message: string, readonly retryAfterMs?: number, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A classified handler outcome. */
export type Outcome =
  | { kind: "done"; result: unknown }
  | { kind: "skipped"; reason: string }
  | { kind: "error"; message: string; permanent: boolean; retryAfterMs?: number };

/** Checks that `value` survives JSON unchanged in meaning; returns it as stored. */
export function toStoredResult(value: unknown): Outcome {
  try {
    const text = JSON.stringify(value ?? null, (_key, v) => {
      if (typeof v === "function" || typeof v === "symbol") {
        throw new TypeError(`a ${typeof v} cannot be stored`);
      }
      if (v instanceof Map || v instanceof Set) {
        throw new TypeError(
          `a ${v.constructor.name} cannot be stored; convert it to an array or object`,
        );
      }
      return v;
    });
    return { kind: "done", result: JSON.parse(text) };
  } catch (err) {
    return {
      kind: "error",
      message: `Result is not JSON-serialisable: ${(err as Error).message}`,
      permanent: true,
    };
  }
}

/** The outcome of a handler that threw `err`; `timedOut` when its time limit aborted it. */
export function classifyError(err: unknown, timedOut: string | undefined): Outcome {
  if (err instanceof SkipSignal) return { kind: "skipped", reason: err.message };
  if (timedOut) return { kind: "error", message: timedOut, permanent: false };
  const message = describeThrown(err);
  if (err instanceof RetryLaterError) {
    return {
      kind: "error",
      message: err.message,
      permanent: false,
      retryAfterMs: err.retryAfterMs,
    };
  }
  const permanent = err instanceof PermanentError ||
    (err instanceof Error &&
      (err.name === "PermanentError" || (err as { permanent?: unknown }).permanent === true));
  return { kind: "error", message, permanent };
}
