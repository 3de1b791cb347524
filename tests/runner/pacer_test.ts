import assert from "node:assert/strict";
import { Pacer } from "../../src/runner/pacer.ts";
import { parseRate } from "../../src/util/units.ts";
import { fakeClock } from "./_helpers.ts";

const START = 1_000_000;

/** Lets every continuation that the clock's last move made runnable run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A pacer on a fake clock, and the clock time (relative to START) at which each wait ended. */
function paced() {
  const clock = fakeClock(START);
  const pacer = new Pacer(clock);
  const released: Record<string, number> = {};
  const track = (name: string, waiting: Promise<void>): Promise<void> =>
    waiting.then(() => void (released[name] = clock.now() - START));
  const advance = async (ms: number): Promise<void> => {
    clock.advance(ms);
    await settle();
  };
  const sleepers = () => clock.sleepers().map((t) => t - START);
  return { clock, pacer, released, track, advance, sleepers };
}

Deno.test("Pacer spaces the events of a key evenly, in call order", async () => {
  const p = paced();
  const rate = parseRate("5/s");
  for (const name of ["a", "b", "c"]) p.track(name, p.pacer.wait("k", rate));
  await settle();
  assert.deepEqual(p.released, { a: 0 });
  assert.deepEqual(p.sleepers(), [200, 400]);
  await p.advance(199);
  assert.deepEqual(p.released, { a: 0 });
  await p.advance(1);
  assert.deepEqual(p.released, { a: 0, b: 200 });
  await p.advance(200);
  assert.deepEqual(p.released, { a: 0, b: 200, c: 400 });
});

Deno.test("Pacer keys are independent of each other", async () => {
  const p = paced();
  const rate = parseRate("1/s");
  p.track("a1", p.pacer.wait("a", rate));
  p.track("b1", p.pacer.wait("b", rate));
  p.track("a2", p.pacer.wait("a", rate));
  await settle();
  assert.deepEqual(p.released, { a1: 0, b1: 0 });
  await p.advance(1000);
  assert.deepEqual(p.released, { a1: 0, b1: 0, a2: 1000 });
});

Deno.test("a wait that ends late never lets the next event of the key through sooner than the rate", async () => {
  const p = paced();
  const rate = parseRate("10/s");
  for (const name of ["a", "b", "c"]) p.track(name, p.pacer.wait("k", rate));
  await settle();
  // The machine is busy: the waits for the slots at 100 and 200 both end at 250.
  await p.advance(250);
  assert.deepEqual(p.released, { a: 0, b: 250 });
  assert.deepEqual(p.sleepers(), [350]);
  await p.advance(100);
  assert.deepEqual(p.released, { a: 0, b: 250, c: 350 });
});

Deno.test("after an idle time the next event of a key goes at once", async () => {
  const p = paced();
  const rate = parseRate("10/s");
  p.track("a", p.pacer.wait("k", rate));
  await settle();
  await p.advance(5000);
  p.track("b", p.pacer.wait("k", rate));
  p.track("c", p.pacer.wait("k", rate));
  await settle();
  assert.deepEqual(p.released, { a: 0, b: 5000 });
  await p.advance(100);
  assert.deepEqual(p.released, { a: 0, b: 5000, c: 5100 });
});

Deno.test("slowDown() holds a key back; a shorter hold never replaces a longer one", async () => {
  const p = paced();
  p.pacer.slowDown("d", 10_000);
  p.pacer.slowDown("d", 1_000);
  p.track("held", p.pacer.waitHeld("d"));
  p.track("other", p.pacer.waitHeld("e"));
  await settle();
  assert.deepEqual(p.released, { other: 0 });
  assert.deepEqual(p.sleepers(), [10_000]);
  await p.advance(1_000);
  assert.deepEqual(p.released, { other: 0 });
  await p.advance(8_999);
  assert.deepEqual(p.released, { other: 0 });
  await p.advance(1);
  assert.deepEqual(p.released, { other: 0, held: 10_000 });
});

Deno.test("a longer slowDown() extends a shorter one", async () => {
  const p = paced();
  p.pacer.slowDown("d", 1_000);
  p.pacer.slowDown("d", 3_000);
  p.track("held", p.pacer.waitHeld("d"));
  await settle();
  assert.deepEqual(p.sleepers(), [3_000]);
  await p.advance(3_000);
  assert.deepEqual(p.released, { held: 3_000 });
});

Deno.test("slowDown() also holds back the events already waiting for their slot", async () => {
  const p = paced();
  const rate = parseRate("10/s");
  p.track("a", p.pacer.wait("d", rate));
  p.track("b", p.pacer.wait("d", rate));
  await settle();
  assert.deepEqual(p.released, { a: 0 });
  // The answer to "a" was a 429 with Retry-After: 5.
  p.pacer.slowDown("d", 5_000);
  await p.advance(100);
  assert.deepEqual(p.released, { a: 0 });
  assert.deepEqual(p.sleepers(), [5_000]);
  await p.advance(4_900);
  assert.deepEqual(p.released, { a: 0, b: 5_000 });
});

Deno.test("an aborted wait rejects with the signal's reason and leaves the other waits alone", async () => {
  const p = paced();
  const rate = parseRate("10/s");
  const abort = new AbortController();
  p.track("a", p.pacer.wait("k", rate));
  const b = p.pacer.wait("k", rate, abort.signal);
  p.track("c", p.pacer.wait("k", rate));
  await settle();
  abort.abort(new Error("stop"));
  await assert.rejects(b, /stop/);
  assert.deepEqual(p.sleepers(), [200]);
  await p.advance(200);
  assert.deepEqual(p.released, { a: 0, c: 200 });
});
