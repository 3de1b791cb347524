// jobs_worker.mjs: a jobctl worker stage in JavaScript, as one function. Runs on Node.js, Deno
// and Bun, with nothing to install. Copy it beside your handler and write:
//
//   import { PermanentError, serve } from "./jobs_worker.mjs";
//
//   serve(async (item, ctx) => {
//     if (!item.data.text) ctx.skip("no text");     // the stage is skipped; the next one runs
//     ctx.log.info("counting", { chars: item.data.text.length });
//     ctx.cost(0.0001, { model: "none" });           // counts toward the job's budget
//     return { words: item.data.text.split(/\s+/).length }; // stored as the stage's result
//   });
//
// and in jobs.yaml: `command: [node, handlers/count.mjs]` with `worker: true`. The process
// handles one item at a time until jobctl closes its stdin. The handler returns the result or
// throws: a SkipSignal (from ctx.skip), a PermanentError (fails the stage without retries), a
// RetryLater (tried again after `afterMs`); any other error is a failed attempt, retried as the
// stage's `retries` say. console.log goes to stderr (stdout carries the protocol). On a `batch:`
// stage, `serveBatch(async (items, ctx) => outcomes)` returns an object of outcomes by item key
// (see README, "Batch handlers").
import process from "node:process";
import { createInterface } from "node:readline";

/** Ends the stage as skipped, with this reason. */
export class SkipSignal extends Error {
  name = "SkipSignal";
}

/** Retrying cannot help: the stage fails at once, with this message. */
export class PermanentError extends Error {
  name = "PermanentError";
}

/** Try again after `afterMs` milliseconds, or the stage's backoff when it is undefined. */
export class RetryLater extends Error {
  name = "RetryLater";
  constructor(message, afterMs) {
    super(message);
    this.afterMs = afterMs;
  }
}

/** Answers jobctl's requests with `handle(item, ctx)` until stdin is closed. */
export function serve(handle) {
  return answer((request, ctx) => handle(request.item, ctx));
}

/**
 * For a `batch:` stage: `handle(items, ctx)` resolves with an object of outcomes by item key.
 * Each item has key, data, results and attempt; each outcome is a final message of the protocol
 * without its id (`{ kind: "result", result }`, `{ kind: "skip", reason }`, …). A throw is the
 * outcome of the whole batch; ctx has no key, results or attempt, and a cost is split over the
 * batch's items.
 */
export function serveBatch(handle) {
  return answer((request, ctx) => handle(request.items, ctx));
}

async function answer(call) {
  const write = (message) => process.stdout.write(JSON.stringify(message) + "\n");
  console.log = console.info = console.debug = console.error;
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const request = JSON.parse(line);
    const send = (message) => write({ ...message, id: request.id });
    const outcome = await run(call, request, send);
    try {
      send(outcome);
    } catch (err) {
      send({ kind: "fail", message: `Result is not JSON-serialisable: ${err.message}` });
    }
  }
}

async function run(call, request, send) {
  const { context } = request;
  const ctx = {
    key: request.item?.key,
    results: request.results,
    job: context.job,
    stage: context.stage,
    mode: context.mode,
    attempt: context.attempt,
    log: Object.fromEntries(
      ["info", "warn", "error"].map((level) => [
        level,
        (message, data) => send({ kind: "log", level, message: String(message), data }),
      ]),
    ),
    cost: (usd, meta) => send({ kind: "cost", usd, meta }),
    skip: (reason) => {
      throw new SkipSignal(reason);
    },
  };
  try {
    const result = await call(request, ctx);
    return { kind: "result", result: result ?? null };
  } catch (err) {
    if (err instanceof SkipSignal) return { kind: "skip", reason: err.message };
    if (err?.name === "PermanentError") return { kind: "fail", message: err.message };
    if (err instanceof RetryLater) {
      return { kind: "retry_later", message: err.message, after_ms: err.afterMs };
    }
    console.error(err?.stack ?? err);
    return {
      kind: "error",
      message: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    };
  }
}
