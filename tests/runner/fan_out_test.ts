import assert from "node:assert/strict";

import { hashUrl } from "../../src/discovery/base.ts";
import { allItems, resultsOf, runInProcess, Workspace } from "./_helpers.ts";
import { seeded } from "../_seeded.ts";

const INDEXES = 40;
const PAGES_EACH = 25;
const KILLS = 4;

// The index stage logs a line per call and emits its pages into the second job.
const EXPAND = `export default function expand(item, ctx) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), \`expand \${item.key}\\n\`,
    { append: true });
  const pages = Array.from({ length: ${PAGES_EACH} }, (_, i) => ({
    key: \`\${item.key}-p\${String(i).padStart(2, "0")}\`,
    data: { index: item.key },
  }));
  ctx.emit("pages", pages);
  return { pages: pages.length };
}
`;

const FETCH = `export default function fetch(item) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), \`fetch \${item.key}\\n\`,
    { append: true });
  return { fetched: item.key };
}
`;

function crashYaml(): string {
  const keys = Array.from({ length: INDEXES }, (_, i) => `i${String(i).padStart(2, "0")}`);
  return `jobs:
  index:
    discovery:
      strategy: static
      items: [${keys.map((k) => `{ key: ${k} }`).join(", ")}]
    stages:
      - { name: expand, handler: ./expand.ts, concurrency: 4, retries: ${KILLS + 1} }
  pages:
    discovery: { strategy: jsonl, path: ./none.jsonl }
    stages:
      - { name: fetch, handler: ./fetch.ts, concurrency: 8, retries: ${KILLS + 1} }
`;
}

/** Starts `jobctl run`, kills it with SIGKILL once it has logged `calls` more handler calls. */
async function runAndKill(ws: Workspace, calls: number, where: string): Promise<void> {
  const atCalls = (await ws.lines("calls.log")).length + calls;
  const child = ws.spawn(["run", "--config", ws.path("jobs.yaml")]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const deadline = Date.now() + 60_000;
  while (!exited && (await ws.lines("calls.log")).length < atCalls) {
    assert.ok(Date.now() < deadline, `${where}: waited 60 s for ${atCalls} handler calls`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  // A run may end on its own before its kill point; the next run goes on from there.
  let killed = !exited;
  try {
    if (killed) child.kill("SIGKILL");
  } catch (err) {
    // "Child process has already terminated": it ended just now.
    if (!(err instanceof TypeError)) throw err;
    killed = false;
  }
  await child.output();
  if (killed) assert.equal((await status).signal, "SIGKILL", where);
}

Deno.test(
  "a stage emitting into another job, killed with kill -9 at random points: every page exactly once, each with its parent",
  async () => {
    await using ws = await Workspace.create({
      "expand.ts": EXPAND,
      "fetch.ts": FETCH,
      "none.jsonl": "",
      "jobs.yaml": crashYaml(),
    });
    const seed = Number(Deno.env.get("JOBS_TEST_SEED") ?? Date.now() % 1_000_000);
    const random = seeded(seed);
    // Each run is killed after a random number of calls of its own, past the first batch of
    // outcomes it writes (at most 256): a run killed sooner records nothing, and the claims it
    // held count as crashes, so the same ones would be in flight at every kill and give up.
    const points = Array.from({ length: KILLS }, () => Math.floor(300 + random() * 300));
    const where = `seed ${seed} (JOBS_TEST_SEED), killed after ${points.join(", ")} calls`;
    console.log(where);
    for (const point of points) await runAndKill(ws, point, where);
    // Attempts never run out (retries: KILLS + 1), so every item ends done. Pages emitted after
    // the pages worker of a run had finished wait for the next run.
    for (let run = 0; run < 5; run++) {
      const out = await ws.jobs(["run"]);
      assert.equal(out.code, 0, `${where}: ${out.stderr}`);
    }
    const db = await ws.openDb();
    try {
      const indexes = await allItems(db, "index");
      assert.deepEqual(indexes.map((i) => i.status), Array(INDEXES).fill("done"), where);
      const pages = await allItems(db, "pages");
      const expected = indexes.flatMap((i) =>
        Array.from({ length: PAGES_EACH }, (_, n) => `${i.key}-p${String(n).padStart(2, "0")}`)
      );
      assert.deepEqual(pages.map((p) => p.key).sort(), expected.sort(), where);
      assert.deepEqual(pages.filter((p) => p.status !== "done"), [], where);
      for (const page of pages) {
        const detail = await db.getItemDetail({ jobId: "pages", key: page.key });
        const index = page.key.slice(0, 3);
        assert.deepEqual(
          detail?.parent,
          { jobId: "index", key: index },
          `${where}: ${page.key}`,
        );
        assert.deepEqual(detail?.data, { index }, `${where}: ${page.key}`);
      }
    } finally {
      await db.close();
    }
    const shown = await ws.jobs(["item", "-j", "pages", "i07-p03"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /\n {2}emitted by index \/ i07\n/);
  },
);

const COMMAND = `#!/bin/sh
cat > /dev/null
echo '{"n": 1, "emit": {"pages": [{"url": "https://example.test/a", "data": {"t": "A"}}]}}'
`;

function oneJob(handler: string): string {
  return `jobs:
  index:
    discovery: { strategy: static, items: [{ key: k1 }] }
    stages:
      - { name: expand, ${handler}, retries: 0 }
  pages:
    discovery: { strategy: jsonl, path: ./none.jsonl }
    stages:
      - { name: fetch, handler: ./fetch.ts }
`;
}

Deno.test("a command's emit field adds the items and is not stored with its result", async () => {
  await using ws = await Workspace.create({
    "h.sh": COMMAND,
    "fetch.ts": FETCH,
    "none.jsonl": "",
    "jobs.yaml": oneJob("command: [./h.sh]"),
  });
  const db = await ws.openDb();
  try {
    const summary = await runInProcess(ws, db, "index");
    assert.deepEqual(summary.stages.expand, { done: 1, skipped: 0, retried: 0, failed: 0 });
    assert.deepEqual((await resultsOf(db, "index", "k1")).map((r) => r.result), [{ n: 1 }]);
    const key = hashUrl("https://example.test/a");
    const page = await db.getItemDetail({ jobId: "pages", key });
    assert.deepEqual([page?.data, page?.parent], [
      { url: "https://example.test/a", t: "A" },
      { jobId: "index", key: "k1" },
    ]);
  } finally {
    await db.close();
  }
});

for (
  const [what, call, message] of [
    [
      "an unknown job",
      `ctx.emit("nope", [{ key: "x" }])`,
      'PermanentError: Stage "expand" of item "k1" emitted to job "nope": there is no such job in jobs.yaml ' +
      "(jobs: index, pages)",
    ],
    [
      "a record without key or http(s) url",
      `ctx.emit("pages", [{ key: "a" }, { url: "ftp://host/x" }])`,
      'PermanentError: Stage "expand" of item "k1" emitted to job "pages": item 2: needs a "key" or an ' +
      'http(s) "url" (url: "ftp://host/x")',
    ],
    [
      "a field outside data",
      `ctx.emit("pages", [{ key: "a", title: "T" }])`,
      'PermanentError: Stage "expand" of item "k1" emitted to job "pages": item 1: unknown field "title" ' +
      "(fields other than key and url go in data)",
    ],
  ]
) {
  Deno.test(`emitting ${what} fails that item with a message naming the stage and item`, async () => {
    await using ws = await Workspace.create({
      "h.ts": `export default function h(item, ctx) { ${call}; return {}; }\n`,
      "fetch.ts": FETCH,
      "none.jsonl": "",
      "jobs.yaml": oneJob("handler: ./h.ts"),
    });
    const db = await ws.openDb();
    try {
      const summary = await runInProcess(ws, db, "index");
      assert.deepEqual(summary.stages.expand, { done: 0, skipped: 0, retried: 0, failed: 1 });
      const [item] = await allItems(db, "index");
      assert.equal(item.stages[0].error, message);
      assert.deepEqual(await allItems(db, "pages"), []);
    } finally {
      await db.close();
    }
  });
}
