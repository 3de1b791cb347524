import assert from "node:assert/strict";
import { runInProcess, statusMap, Workspace } from "./_helpers.ts";

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
  try {
    await runInProcess(ws, db, "j");
    assert.deepEqual(await statusMap(db, "j"), {
      a: "timed=done",
      b: "timed=done",
      c: "timed=done",
      d: "timed=done",
    });
  } finally {
    await db.close();
  }
  const starts = intervals(await ws.lines("calls.log")).map((r) => r.start);
  assert.equal(starts.length, 4);
  // Slots are 100 ms apart; a start may lag its slot by a few ms.
  assert.ok(starts[3] - starts[0] >= 290, `4 starts within ${starts[3] - starts[0]} ms`);
});

Deno.test("ctx.fetch paces requests to one domain at the stage's domain_rate", async () => {
  const hits: number[] = [];
  const srv = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    hits.push(Date.now());
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
  try {
    await runInProcess(ws, db, "j");
    assert.deepEqual(await statusMap(db, "j"), {
      a: "fetch=done",
      b: "fetch=done",
      c: "fetch=done",
    });
  } finally {
    await db.close();
    await srv.shutdown();
  }
  hits.sort((x, y) => x - y);
  // Slots are 200 ms apart: three requests span at least 400 ms.
  assert.ok(hits[2] - hits[0] >= 390, `3 requests within ${hits[2] - hits[0]} ms`);
});
