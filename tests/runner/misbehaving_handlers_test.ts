/**
 * A module handler runs inside the runner, but cannot end it, hang it or stop other jobs: exit
 * calls, stray timers and rejections, leftovers, broken modules and odd thrown values.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";

import { allItems, exited, startJobs, statusMap, waitFor, Workspace } from "./_helpers.ts";

/** Stage rows of `jobId` as "status: error" by item key. */
async function outcomes(ws: Workspace, jobId: string): Promise<Record<string, string>> {
  const db = await ws.openDb();
  try {
    return Object.fromEntries(
      (await allItems(db, jobId)).map((i) => {
        const [s] = i.stages;
        return [i.key, s.error === null ? s.status : `${s.status}: ${s.error}`];
      }),
    );
  } finally {
    await db.close();
  }
}

const GOOD = `export default function handle(item) {
  return { key: item.key };
}
`;

function goodJob(): string {
  return `  good:
    discovery: { strategy: static, items: [{ key: g1 }, { key: g2 }, { key: g3 }] }
    handler: ./good.ts
`;
}

// Misbehaves as its item key says; "late" throws from a timer after it returned, and "wait"
// returns only once that has happened, so that the run is still going on.
const ROGUE = `import process from "node:process";
const calls = new URL("./calls.log", import.meta.url);
const note = (line) => Deno.writeTextFileSync(calls, line + "\\n", { append: true });
const never = () => new Promise(() => {});
export default async function handle(item) {
  switch (item.key) {
    case "deno-exit": Deno.exit(0); break;
    case "process-exit": process.exit(0); break;
    case "timer-exit": setTimeout(() => Deno.exit(0), 10); return await never();
    case "timer-throw": setTimeout(() => { throw new Error("boom from a timer"); }, 10); return await never();
    case "rejection": Promise.reject(new Error("nobody awaits me")); return await never();
    case "late": setTimeout(() => { note("late fired"); throw new Error("too late"); }, 30); return {};
    case "wait":
      while (!Deno.readTextFileSync(calls).includes("late fired")) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return {};
  }
}
`;

Deno.test("exit calls, stray timer errors and rejections fail their claims; the run goes on", async () => {
  const keys = [
    "deno-exit",
    "process-exit",
    "timer-exit",
    "timer-throw",
    "rejection",
    "late",
    "wait",
  ];
  await using ws = await Workspace.create({
    "rogue.ts": ROGUE,
    "good.ts": GOOD,
    "calls.log": "",
    "jobs.yaml": `jobs:
  rogue:
    discovery: { strategy: static, items: [${keys.map((k) => `{ key: ${k} }`).join(", ")}] }
    stages:
      - { name: r, handler: ./rogue.ts, concurrency: 10, timeout: 1m, retries: 0 }
${goodJob()}`,
  });
  const run = startJobs(ws, ["run"]);
  const status = await exited(run, "jobs run with rogue handlers");
  assert.equal(status.code, EXIT.failed, run.stderr());
  const exit = (name: string) =>
    `failed: HandlerExitError: ${name}(0) was called by a handler; a handler must return or throw`;
  assert.deepEqual(await outcomes(ws, "rogue"), {
    "deno-exit": exit("Deno.exit"),
    "process-exit": exit("process.exit"),
    "timer-exit": exit("Deno.exit"),
    "timer-throw": "failed: UncaughtError: Error: boom from a timer",
    "rejection": "failed: UncaughtError: Error: nobody awaits me",
    "late": "done",
    "wait": "done",
  });
  assert.deepEqual(await outcomes(ws, "good"), { g1: "done", g2: "done", g3: "done" });
  assert.match(
    run.stderr(),
    /rogue: discovered 7 .*r: 2 done, 0 skipped, 0 to retry, 5 failed; 1 error escaped its handlers/,
  );
  const db = await ws.openDb();
  try {
    const events = await db.getEvents({ jobId: "rogue", kind: "handler_error" });
    const late = (await allItems(db, "rogue")).find((i) => i.key === "late")!;
    assert.deepEqual(events.map((e) => [e.itemId, e.stage, e.message]), [
      [late.id, "r", "UncaughtError: Error: too late (after the handler had finished)"],
    ]);
  } finally {
    await db.close();
  }
});

Deno.test("an error thrown outside any handler's scope is logged, and the run goes on and exits 1", async () => {
  await using ws = await Workspace.create({
    // The runner aborts the signal from its own timer: the listener runs outside the handler.
    "listener.ts": `export default async function handle(item, ctx) {
  ctx.signal.addEventListener("abort", () => { throw new Error("from an abort listener"); });
  await new Promise(() => {});
}
`,
    "good.ts": GOOD,
    "jobs.yaml": `jobs:
  listens:
    discovery: { strategy: static, items: [{ key: a }] }
    stages:
      - { name: l, handler: ./listener.ts, timeout: 300ms, retries: 0 }
${goodJob()}`,
  });
  const run = startJobs(ws, ["run"]);
  const status = await exited(run, "jobs run with a throwing abort listener");
  assert.equal(status.code, EXIT.failed, run.stderr());
  assert.match(
    run.stderr(),
    /error Uncaught error outside any handler's claim: Error: from an abort listener where=file:\/\/\/.*listener\.ts:2:\d+/,
  );
  assert.deepEqual(await outcomes(ws, "listens"), { a: "failed: Timed out after 300ms" });
  assert.deepEqual(await outcomes(ws, "good"), { g1: "done", g2: "done", g3: "done" });
});

// Never settles, ignores its signal and keeps an interval running: the event loop never empties.
const CLINGY = `export default function handle() {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), "start\\n", { append: true });
  setInterval(() => {}, 1000);
  return new Promise(() => {});
}
`;

Deno.test("a finished run exits although a timed-out handler left an interval and a pending promise", async () => {
  await using ws = await Workspace.create({
    "clingy.ts": CLINGY,
    "jobs.yaml": `jobs:
  clingy:
    discovery: { strategy: static, items: [{ key: a }] }
    stages:
      - { name: c, handler: ./clingy.ts, timeout: 500ms, retries: 0 }
`,
  });
  const run = startJobs(ws, ["run"]);
  const status = await exited(run, "jobs run after its summary");
  assert.equal(status.code, EXIT.failed, run.stderr());
  assert.match(run.stderr(), /clingy: discovered 1 .*c: 0 done, 0 skipped, 0 to retry, 1 failed/);
  assert.deepEqual(await outcomes(ws, "clingy"), { a: "failed: Timed out after 500ms" });
});

Deno.test("SIGTERM with a 1s grace exits after the grace, not when handlers finish", async () => {
  await using ws = await Workspace.create({
    "clingy.ts": CLINGY,
    "jobs.yaml": `runner: { shutdown_grace: 1s }
jobs:
  clingy:
    discovery: { strategy: static, items: [{ key: a }, { key: b }] }
    stages:
      - { name: c, handler: ./clingy.ts, timeout: 1h, concurrency: 2 }
`,
  });
  const run = startJobs(ws, ["run"]);
  await waitFor("both handlers to start", async () => (await ws.lines("calls.log")).length === 2);
  run.child.kill("SIGTERM");
  // Generous: the point is that it ends at all, long before the handlers' 1h timeout.
  const status = await exited(run, "jobs run 1s after SIGTERM", 20_000);
  assert.equal(status.code, EXIT.interrupted, run.stderr());
  const db = await ws.openDb();
  try {
    assert.deepEqual(await statusMap(db, "clingy"), { a: "c=pending", b: "c=pending" });
  } finally {
    await db.close();
  }
});

Deno.test("a handler module that does not parse or throws at import fails its own job only", async () => {
  await using ws = await Workspace.create({
    "syntax.ts": `export default function handle() {\n  return {;\n}\n`,
    "throws.ts":
      `const ready = false;\nif (!ready) throw new Error("not configured");\nexport default () => ({});\n`,
    "good.ts": GOOD,
    "jobs.yaml": `jobs:
  syntax:
    discovery: { strategy: static, items: [{ key: s1 }] }
    handler: ./syntax.ts
  throws:
    discovery: { strategy: static, items: [{ key: t1 }] }
    stages:
      - { name: first, handler: ./good.ts }
      - { name: second, handler: ./throws.ts }
${goodJob()}`,
  });
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, EXIT.failed, out.stderr);
  const syntax = `${ws.path("syntax.ts")}:2:11: cannot load the handler of stage "syntax": ` +
    "SyntaxError: Unexpected token `;`. Expected identifier, string literal, numeric literal or [ for the computed key";
  const throws = `${ws.path("throws.ts")}:2:19: cannot load the handler of stage "second": ` +
    "Error: not configured";
  assert.ok(out.stderr.includes(`syntax: cannot run: ${syntax}`), out.stderr);
  assert.ok(out.stderr.includes(`throws: cannot run: ${throws}`), out.stderr);
  assert.doesNotMatch(out.stderr, /^\s+at /m, "no stack trace");
  const db = await ws.openDb();
  try {
    assert.deepEqual(await statusMap(db, "good"), {
      g1: "good=done",
      g2: "good=done",
      g3: "good=done",
    });
    assert.deepEqual(await statusMap(db, "throws"), {}, "the broken job discovered nothing");
    const messages = async (jobId: string) =>
      (await db.getEvents({ jobId, kind: "handler_error" })).map((e) => e.message);
    assert.deepEqual(await messages("syntax"), [syntax]);
    assert.deepEqual(await messages("throws"), [throws]);
  } finally {
    await db.close();
  }
});

Deno.test("a thrown object, string, null or circular object is stored as readable text", async () => {
  await using ws = await Workspace.create({
    "odd.ts": `export default function handle(item) {
  if (item.key === "object") throw { code: 42, detail: "quota" };
  if (item.key === "message") throw { name: "QuotaError", message: "out of quota" };
  if (item.key === "string") throw "plain string";
  if (item.key === "null") throw null;
  const loop = { id: 7 };
  loop.self = loop;
  throw loop;
}
`,
    "jobs.yaml": `jobs:
  odd:
    discovery:
      strategy: static
      items: [{ key: object }, { key: message }, { key: string }, { key: "null" }, { key: circular }]
    stages:
      - { name: o, handler: ./odd.ts, retries: 0 }
`,
  });
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, EXIT.failed, out.stderr);
  assert.deepEqual(await outcomes(ws, "odd"), {
    object: 'failed: {"code":42,"detail":"quota"}',
    message: "failed: QuotaError: out of quota",
    string: "failed: plain string",
    null: "failed: Threw null",
    circular: "failed: <ref *1> { id: 7, self: [Circular *1] }",
  });
});
