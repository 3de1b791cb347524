import assert from "node:assert/strict";
import { type ClaimAbort, ClaimAborts } from "../../src/runner/_claim_aborts.ts";

/** A handler that never settles on its own. */
const forever = () => new Promise<never>(() => {});

/** Starts a claim whose handler reads its signal at once and never settles on its own. */
function startReading(aborts: ClaimAborts) {
  let abort: ClaimAbort | undefined;
  let signal: AbortSignal | undefined;
  const run = aborts.run((a) => {
    abort = a;
    signal = a.signal;
    return forever();
  });
  // The handler starts within run(), before it returns.
  return { run, abort: abort!, signal: signal! };
}

Deno.test("a signal read before the stage's timeout aborts at it, and the claim rejects", async () => {
  const aborts = new ClaimAborts(1, new AbortController().signal);
  const { run, abort, signal } = startReading(aborts);
  assert.equal(signal.aborted, false);
  await assert.rejects(run, { message: "Timed out" });
  assert.equal(signal.aborted, true);
  assert.equal((signal.reason as Error).message, "Timed out");
  assert.equal(abort.timedOut, true);
  assert.equal(abort.signal, signal, "the same signal is read again");
  aborts.dispose();
});

Deno.test("a signal first read after the claim was aborted starts aborted, with the reason", async () => {
  const hard = new AbortController();
  const aborts = new ClaimAborts(600_000, hard.signal);
  let abort: ClaimAbort | undefined;
  const run = aborts.run((a) => {
    abort = a;
    return forever();
  });
  hard.abort(new Error("grace over"));
  await assert.rejects(run, { message: "grace over" });
  assert.equal(abort!.timedOut, false);
  assert.equal(abort!.signal.aborted, true);
  assert.equal((abort!.signal.reason as Error).message, "grace over");
  aborts.dispose();
});

Deno.test("a claim started after the shutdown grace ended is rejected without running", async () => {
  const hard = new AbortController();
  hard.abort(new Error("grace over"));
  const aborts = new ClaimAborts(600_000, hard.signal);
  let started = false;
  const run = aborts.run(() => {
    started = true;
    return Promise.resolve(1);
  });
  await assert.rejects(run, { message: "grace over" });
  assert.equal(started, false);
  aborts.dispose();
});

Deno.test("fail() ends a running claim with its error and aborts a signal it already read", async () => {
  const aborts = new ClaimAborts(600_000, new AbortController().signal);
  const { run, abort, signal } = startReading(aborts);
  const error = new Error("stray rejection");
  assert.equal(aborts.fail(abort, error), true);
  await assert.rejects(run, error);
  assert.equal(signal.reason, error);
  assert.equal(aborts.fail(abort, error), false, "an ended claim cannot fail again");
  aborts.dispose();
});

Deno.test("a claim that ends on its own resolves with its handler's value", async () => {
  const aborts = new ClaimAborts(600_000, new AbortController().signal);
  assert.deepEqual(await aborts.run(() => Promise.resolve({ ok: 1 })), { ok: 1 });
  aborts.dispose();
});
