import { getResults } from "../../src/db/store.ts";
import assert from "node:assert/strict";

import { allItems, fakeClock, runInProcess, statusMap, Workspace } from "./_helpers.ts";

const FLAKY = `export const HANDLER_VERSION = "1";
export default function handle(item, ctx) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url),
    \`\${item.key} \${ctx.attempt}\\n\`, { append: true });
  if (ctx.attempt < 3) throw new Error(\`flaky \${ctx.attempt}\`);
  return { attempt: ctx.attempt };
}
`;

function oneStageYaml(handler: string, stage = "", job = ""): string {
  return `jobs:
  j:
    discovery: { strategy: static, items: [{ key: k1 }] }
${job}    stages:
      - name: s
        handler: ${handler}
${stage}`;
}

Deno.test("a failing handler is retried after exponential backoff with jitter until it succeeds", async () => {
  await using ws = await Workspace.create({
    "flaky.ts": FLAKY,
    "jobs.yaml": oneStageYaml("./flaky.ts", "        retries: 3\n        backoff: 10s\n"),
  });
  const clock = fakeClock();
  const db = await ws.openDb();
  try {
    const run = () => runInProcess(ws, db, "j", { now: clock.now });
    const retryAt = async () => (await db.getEvents({ jobId: "j", kind: "retry", limit: 1 }))[0];

    await run();
    assert.deepEqual(await statusMap(db, "j"), { k1: "s=pending" });
    const first = await retryAt();
    assert.equal(first.message, "Error: flaky 1");
    const delay1 = (first.data!.runAfter as number) - clock.now();
    assert.ok(delay1 >= 8000 && delay1 <= 12000, `first backoff ${delay1} ms`);

    clock.advance(delay1 - 1);
    await run();
    assert.deepEqual(await ws.lines("calls.log"), ["k1 1"], "not due yet: no call");

    clock.advance(1);
    await run();
    const second = await retryAt();
    assert.equal(second.message, "Error: flaky 2");
    const delay2 = (second.data!.runAfter as number) - clock.now();
    assert.ok(delay2 >= 16000 && delay2 <= 24000, `second backoff ${delay2} ms (doubled)`);

    clock.advance(delay2);
    await run();
    assert.deepEqual(await ws.lines("calls.log"), ["k1 1", "k1 2", "k1 3"]);
    const [item] = await allItems(db, "j");
    assert.deepEqual(item.stages, [{ stage: "s", status: "done", attempts: 3, error: null }]);
    assert.deepEqual((await getResults(db, item.id)).map((r) => r.result), [{ attempt: 3 }]);
  } finally {
    await db.close();
  }
});

Deno.test("when retries are spent the stage fails with the last error", async () => {
  await using ws = await Workspace.create({
    "fail.ts": `export default function handle() { throw new TypeError("broken input"); }\n`,
    "jobs.yaml": oneStageYaml("./fail.ts", "        retries: 1\n        backoff: 1s\n"),
  });
  const clock = fakeClock();
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j", { now: clock.now });
    clock.advance(60_000);
    await runInProcess(ws, db, "j", { now: clock.now });
    clock.advance(60_000);
    await runInProcess(ws, db, "j", { now: clock.now });
    const [item] = await allItems(db, "j");
    assert.deepEqual(item.stages, [
      { stage: "s", status: "failed", attempts: 2, error: "TypeError: broken input" },
    ]);
    assert.equal(item.status, "failed");
    const kinds = (await db.getEvents({ jobId: "j" })).map((e) => e.kind).filter((k) =>
      k === "retry" || k === "failed"
    );
    assert.deepEqual(kinds, ["failed", "retry"]);
  } finally {
    await db.close();
  }
});

Deno.test("an error named PermanentError fails the stage at once, retries left or not", async () => {
  await using ws = await Workspace.create({
    "gone.ts": `class PermanentError extends Error { name = "PermanentError"; }
export default function handle(item) { throw new PermanentError(\`\${item.key} is gone\`); }
`,
    "jobs.yaml": oneStageYaml("./gone.ts", "        retries: 5\n"),
  });
  const db = await ws.openDb();
  try {
    const summary = await runInProcess(ws, db, "j");
    assert.deepEqual(summary.stages, { s: { done: 0, skipped: 0, retried: 0, failed: 1 } });
    const [item] = await allItems(db, "j");
    assert.deepEqual(item.stages, [
      { stage: "s", status: "failed", attempts: 1, error: "PermanentError: k1 is gone" },
    ]);
  } finally {
    await db.close();
  }
});

Deno.test("ctx.skip(reason) skips the stage, records why, and the next stage runs", async () => {
  await using ws = await Workspace.create({
    "maybe.ts": `export default function handle(item, ctx) {
  const { skip } = ctx;
  if (item.data.empty) skip("nothing to read");
  return { read: item.key };
}
`,
    "after.ts": `export default function handle(item, ctx) { return { saw: ctx.results }; }\n`,
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: full }, { key: blank, empty: true }] }
    stages:
      - handler: ./maybe.ts
      - handler: ./after.ts
`,
  });
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j");
    assert.deepEqual(await statusMap(db, "j"), {
      full: "maybe=done after=done",
      blank: "maybe=skipped after=done",
    });
    const blank = (await allItems(db, "j")).find((i) => i.key === "blank")!;
    assert.equal(blank.status, "done");
    assert.equal(blank.stages[0].error, "nothing to read");
    assert.deepEqual((await getResults(db, blank.id)).map((r) => [r.stage, r.result]), [
      ["after", { saw: {} }],
    ]);
    const skipped = await db.getEvents({ jobId: "j", kind: "skipped" });
    assert.deepEqual(skipped.map((e) => [e.itemId, e.stage, e.message]), [
      [blank.id, "maybe", "nothing to read"],
    ]);
  } finally {
    await db.close();
  }
});

Deno.test("a handler that never resolves times out and is retried; one that listens sees ctx.signal abort", async () => {
  await using ws = await Workspace.create({
    "hang.ts": `export default function handle() { return new Promise(() => {}); }\n`,
    "polite.ts": `export default function handle(item, ctx) {
  return new Promise((_, reject) => ctx.signal.addEventListener("abort", () => {
    Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), "aborted\\n", { append: true });
    reject(new Error("stopped"));
  }));
}
`,
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: k1 }, { key: k2 }] }
    stages:
      - handler: ./hang.ts
        timeout: 100ms
        retries: 2
  k:
    discovery: { strategy: static, items: [{ key: k1 }] }
    stages:
      - handler: ./polite.ts
        timeout: 50ms
        retries: 0
`,
  });
  const db = await ws.openDb();
  try {
    const summary = await runInProcess(ws, db, "j");
    assert.deepEqual(summary.stages, { hang: { done: 0, skipped: 0, retried: 2, failed: 0 } });
    for (const item of await allItems(db, "j")) {
      assert.deepEqual(item.stages, [
        { stage: "hang", status: "pending", attempts: 1, error: "Timed out after 100ms" },
      ]);
    }
    await runInProcess(ws, db, "k");
    const [item] = await allItems(db, "k");
    assert.deepEqual(item.stages, [
      { stage: "polite", status: "failed", attempts: 1, error: "Timed out after 50ms" },
    ]);
    assert.deepEqual(await ws.lines("calls.log"), ["aborted"]);
  } finally {
    await db.close();
  }
});

Deno.test("a result that is not JSON-serialisable fails the stage with a clear message", async () => {
  await using ws = await Workspace.create({
    "odd.ts": `export default function handle(item) {
  if (item.key === "bigint") return { n: 10n };
  if (item.key === "map") return { seen: new Map([["a", 1]]) };
  if (item.key === "fn") return { callback: () => 1 };
  const loop = { name: "loop" };
  loop.self = loop;
  return loop;
}
`,
    "jobs.yaml": `jobs:
  j:
    discovery:
      strategy: static
      items: [{ key: bigint }, { key: map }, { key: fn }, { key: circular }]
    stages:
      - handler: ./odd.ts
        retries: 3
`,
  });
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j");
    const errors = Object.fromEntries(
      (await allItems(db, "j")).map((i) => [i.key, [i.stages[0].status, i.stages[0].error]]),
    );
    const prefix = "Result is not JSON-serialisable: ";
    assert.deepEqual(errors.bigint, ["failed", `${prefix}Do not know how to serialize a BigInt`]);
    assert.deepEqual(errors.map, [
      "failed",
      `${prefix}a Map cannot be stored; convert it to an array or object`,
    ]);
    assert.deepEqual(errors.fn, ["failed", `${prefix}a function cannot be stored`]);
    assert.equal(errors.circular[0], "failed");
    assert.match(errors.circular[1] as string, /^Result is not JSON-serialisable: .*circular/i);
  } finally {
    await db.close();
  }
});

Deno.test("results record the stage's version; a new version makes them stale", async () => {
  await using ws = await Workspace.create({
    "v.ts": `export const HANDLER_VERSION = "from-module";
export default function handle(item) { return { key: item.key }; }
`,
    "jobs.yaml": oneStageYaml("./v.ts"),
  });
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j");
    const [item] = await allItems(db, "j");
    assert.deepEqual((await getResults(db, item.id)).map((r) => r.handlerVersion), [
      "from-module",
    ]);
    assert.deepEqual(await db.getStaleCount({ jobId: "j" }), {});
    await ws.write("jobs.yaml", oneStageYaml("./v.ts", "        version: v2\n"));
    await runInProcess(ws, db, "j");
    assert.deepEqual(await db.getStaleCount({ jobId: "j" }), { s: 1 });
  } finally {
    await db.close();
  }
});
