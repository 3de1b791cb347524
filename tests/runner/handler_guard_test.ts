import assert from "node:assert/strict";
import { guardHandlers, outsideHandlers, runCaught } from "../../src/runner/handler_guard.ts";

/** `promise`, or a failure naming `what` after 5 seconds. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) =>
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), 5000)
  );
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("outsideHandlers(): what a handler's call starts there throws as the runner's, not the handler's", async () => {
  const caught = Promise.withResolvers<unknown>();
  const unscoped = Promise.withResolvers<unknown>();
  const unguard = guardHandlers({ onUnscoped: (error) => unscoped.resolve(error) });
  try {
    runCaught((error) => caught.resolve(error), () => {
      setTimeout(() => {
        throw new Error("in the handler's timer");
      }, 0);
      outsideHandlers(() =>
        setTimeout(() => {
          throw new Error("in a timer started outside");
        }, 0)
      );
    });
    const inside = await within(caught.promise, "the handler's error");
    const outside = await within(unscoped.promise, "the error outside any handler");
    assert.equal((inside as Error).message, "in the handler's timer");
    assert.equal((outside as Error).message, "in a timer started outside");
  } finally {
    unguard();
  }
});
