import assert from "node:assert/strict";
import { Pacer } from "../../src/runner/pacer.ts";
import {
  type FakeClock,
  fakeClock,
  runInProcess,
  statusMap,
  waitFor,
  Workspace,
} from "./_helpers.ts";

// Logs "<job> <key> <start ms> <end ms>" around a 40 ms wait.
const TIMED = `export default async function handle(item, ctx) {
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 40));
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url),
    \`\${ctx.job} \${item.key} \${start} \${Date.now()}\\n\`, { append: true });
  return {};
}
`;

function intervals(lines: string[]): { job: string; start: number; end: number }[] {
  return lines.map((line) => {
    const [job, , start, end] = line.split(" ");
    return { job, start: Number(start), end: Number(end) };
  }).sort((a, b) => a.start - b.start);
}

Deno.test("a resource's concurrency is shared by every job of the process", async () => {
  await using ws = await Workspace.create({
    "timed.ts": TIMED,
    "jobs.yaml": `resources:
  gpu: { concurrency: 1 }
jobs:
  one:
    discovery: { strategy: static, items: [{ key: a }, { key: b }, { key: c }] }
    stages:
      - { handler: ./timed.ts, concurrency: 3, uses: [gpu] }
  two:
    discovery: { strategy: static, items: [{ key: d }, { key: e }, { key: f }] }
    stages:
      - { handler: ./timed.ts, concurrency: 3, uses: [gpu] }
`,
  });
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 0, out.stderr);
  const runs = intervals(await ws.lines("calls.log"));
  assert.equal(runs.length, 6);
  assert.deepEqual(new Set(runs.map((r) => r.job)), new Set(["one", "two"]));
  for (let i = 1; i < runs.length; i++) {
    assert.ok(runs[i].start >= runs[i - 1].end, `handlers overlap: ${JSON.stringify(runs)}`);
  }
});

/**
 * Drives `clock` through the slots of a pacer: while `count()` events have happened, the rest
 * must be waiting on the clock for the next slots `step` ms apart; then moves on to the next.
 */
async function driveSlots(
  clock: FakeClock,
  count: () => Promise<number> | number,
  total: number,
  step: number,
): Promise<void> {
  const start = clock.now();
  for (let done = 1; done < total; done++) {
    const waiting = Array.from({ length: total - done }, (_, i) => start + (done + i) * step);
    await waitFor(
      `${done} of ${total} paced events and ${total - done} waits for slots`,
      async () => (await count()) === done && clock.sleepers().length === total - done,
    );
    assert.deepEqual(clock.sleepers(), waiting, `the slots after event ${done}`);
    assert.equal(await count(), done, `no event before its slot (after event ${done})`);
    clock.advance(step);
  }
}

Deno.test("a resource's rate spaces out the handlers that use it", async () => {
  await using ws = await Workspace.create({
    "timed.ts": TIMED,
    "jobs.yaml": `resources:
  api: { rate: 10/s }
jobs:
  j:
    discovery: { strategy: static, items: [{ key: a }, { key: b }, { key: c }, { key: d }] }
    stages:
      - { handler: ./timed.ts, concurrency: 4, uses: [api] }
`,
  });
  const db = await ws.openDb();
  const clock = fakeClock(0);
  try {
    const running = runInProcess(ws, db, "j", { pacer: new Pacer(clock) });
    await driveSlots(clock, async () => (await ws.lines("calls.log")).length, 4, 100);
    await running;
    assert.deepEqual(await statusMap(db, "j"), {
      a: "timed=done",
      b: "timed=done",
      c: "timed=done",
      d: "timed=done",
    });
  } finally {
    await db.close();
  }
  assert.equal((await ws.lines("calls.log")).length, 4);
  assert.equal(clock.now(), 300);
});

Deno.test("ctx.fetch paces requests to one domain at the stage's domain_rate", async () => {
  const hits: string[] = [];
  const srv = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    hits.push(new URL(req.url).pathname);
    return new Response("ok");
  });
  const base = `http://127.0.0.1:${srv.addr.port}`;
  await using ws = await Workspace.create({
    "jobs.yaml": `jobs:
  j:
    discovery:
      strategy: static
      items:
        - { key: a, url: "${base}/a" }
        - { key: b, url: "${base}/b" }
        - { key: c, url: "${base}/c" }
    stages:
      - handler: builtin:fetch
        concurrency: 3
        domain_rate: 5/s
`,
  });
  const db = await ws.openDb();
  const clock = fakeClock(0);
  try {
    const running = runInProcess(ws, db, "j", { pacer: new Pacer(clock) });
    await driveSlots(clock, () => hits.length, 3, 200);
    await running;
    assert.deepEqual(await statusMap(db, "j"), {
      a: "fetch=done",
      b: "fetch=done",
      c: "fetch=done",
    });
  } finally {
    await db.close();
    await srv.shutdown();
  }
  assert.deepEqual(hits.toSorted(), ["/a", "/b", "/c"]);
  assert.equal(clock.now(), 400);
});

Deno.test("ctx.fetch holds a domain back for as long as a 429's Retry-After asks", async () => {
  let served = 0;
  const srv = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () =>
      ++served === 1
        ? new Response("slow down", { status: 429, headers: { "retry-after": "30" } })
        : new Response("ok"),
  );
  const base = `http://127.0.0.1:${srv.addr.port}`;
  await using ws = await Workspace.create({
    "jobs.yaml": `jobs:
  j:
    discovery:
      strategy: static
      items:
        - { key: a, url: "${base}/a" }
        - { key: b, url: "${base}/b" }
    stages:
      - { handler: builtin:fetch, concurrency: 1 }
`,
  });
  const db = await ws.openDb();
  const clock = fakeClock(0);
  try {
    const running = runInProcess(ws, db, "j", { pacer: new Pacer(clock) });
    await waitFor(
      "the 429 and the next request waiting",
      () => served === 1 && clock.sleepers().length === 1,
    );
    assert.deepEqual(clock.sleepers(), [30_000], "the domain is held for Retry-After: 30");
    clock.advance(29_999);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(served, 1, "no request before the 30 s are over");
    clock.advance(1);
    await running;
    assert.equal(served, 2);
    const stages = Object.values(await statusMap(db, "j")).sort();
    assert.deepEqual(stages, ["fetch=done", "fetch=pending"]);
  } finally {
    await db.close();
    await srv.shutdown();
  }
});
