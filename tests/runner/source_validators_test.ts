/**
 * What a job's sources said last time (an ETag, a local file's digest) through real `jobctl run`
 * processes: kept per job and under the job's discovery options, and stored only once the items
 * are recorded, so a run killed with SIGKILL while it records them loses none. On PostgreSQL too
 * when JOBS_TEST_PG_URL is set.
 */
import assert from "node:assert/strict";
import { serveRoutes } from "../discovery/_server.ts";
import { exited, startJobs, waitFor, Workspace } from "./_helpers.ts";

const FEED = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>A</title><guid>a</guid></item><item><title>B</title><guid>b</guid></item>
</channel></rss>`;

const NOOP = `export default function handle(item) { return { key: item.key }; }\n`;

/** jobs.yaml with one no-op stage per job; `jobs` maps a job id to its discovery (flow YAML). */
function jobsYaml(jobs: Record<string, string>): string {
  const blocks = Object.entries(jobs).map(([id, discovery]) =>
    `  ${id}:\n    discovery: ${discovery}\n    stages:\n      - { name: a, handler: ./noop.js }`
  );
  return `jobs:\n${blocks.join("\n")}\n`;
}

/** The messages of `jobId`'s discovery events, oldest first. */
async function discoveries(ws: Workspace, jobId: string): Promise<string[]> {
  const db = await ws.openDb();
  try {
    const events = await db.getEvents({ jobId, kind: "discovery" });
    return events.map((e) => e.message).reverse();
  } finally {
    await db.close();
  }
}

/** How many items `jobId` holds, read from its counters. */
async function itemCount(ws: Workspace, jobId: string): Promise<number> {
  const db = await ws.openDb();
  try {
    const stats = await db.stageStats(jobId);
    return stats.length ? stats[0].pending + stats[0].done : 0;
  } finally {
    await db.close();
  }
}

async function discoverOnly(ws: Workspace, job: string): Promise<void> {
  const out = await ws.jobs(["run", "--discover-only", "-j", job]);
  assert.equal(out.code, 0, out.stderr);
}

Deno.test("two jobs that read one feed each get its items, and each its own 304", async () => {
  await using server = serveRoutes({
    "/feed.xml": (req) =>
      req.headers.get("if-none-match") === '"v1"'
        ? new Response(null, { status: 304 })
        : new Response(FEED, { headers: { etag: '"v1"', "content-type": "application/rss+xml" } }),
  });
  const discovery = `{ strategy: rss, url: "${server.url("/feed.xml")}" }`;
  await using ws = await Workspace.create({
    "jobs.yaml": jobsYaml({ first: discovery, second: discovery }),
    "noop.js": NOOP,
  });
  await discoverOnly(ws, "first");
  await discoverOnly(ws, "second");
  await discoverOnly(ws, "second");
  assert.deepEqual(await discoveries(ws, "first"), ["found 2: 2 new, 0 updated, 0 unchanged"]);
  assert.deepEqual(await discoveries(ws, "second"), [
    "found 2: 2 new, 0 updated, 0 unchanged",
    "not modified since the last discovery",
  ]);
  assert.deepEqual(server.hits.map((h) => h.headers.get("if-none-match")), [null, null, '"v1"']);
});

Deno.test("an unchanged local file is not parsed again; a changed one or changed options are", async () => {
  const lines = (n: number) =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ id: `k${i}`, other: `o${i}` })).join("\n");
  await using ws = await Workspace.create({
    "jobs.yaml": jobsYaml({ local: "{ strategy: jsonl, path: ./items.jsonl }" }),
    "noop.js": NOOP,
    "items.jsonl": lines(3),
  });
  await discoverOnly(ws, "local");
  const again = await ws.jobs(["run", "--discover-only", "-j", "local"]);
  assert.match(again.stderr, /info {2}local: discovered 0 \(not modified\) job=local\n/);
  await ws.write("items.jsonl", lines(4));
  await discoverOnly(ws, "local");
  // Keyed by another field, the same lines are other items: the file is read again.
  await ws.write(
    "jobs.yaml",
    jobsYaml({ local: "{ strategy: jsonl, path: ./items.jsonl, key: other }" }),
  );
  await discoverOnly(ws, "local");
  assert.deepEqual(await discoveries(ws, "local"), [
    "found 3: 3 new, 0 updated, 0 unchanged",
    "not modified since the last discovery",
    "found 4: 1 new, 0 updated, 3 unchanged",
    "found 4: 4 new, 0 updated, 0 unchanged",
  ]);
  assert.equal(await itemCount(ws, "local"), 8);
});

Deno.test("a run killed while it records a file's items: the next run reads the file and records them all", async () => {
  const n = 50_000;
  const records = Array.from({ length: n }, (_, i) => JSON.stringify({ id: `item-${i}` }));
  await using ws = await Workspace.create({
    "jobs.yaml": jobsYaml({ big: "{ strategy: jsonl, path: ./items.jsonl }" }),
    "noop.js": NOOP,
    "items.jsonl": records.join("\n"),
  });
  const run = startJobs(ws, ["run", "--discover-only"]);
  await waitFor("the first items to be recorded", async () => await itemCount(ws, "big") > 0);
  run.child.kill("SIGKILL");
  assert.equal((await exited(run, "jobctl run killed while recording")).signal, "SIGKILL");
  const recorded = await itemCount(ws, "big");
  await discoverOnly(ws, "big");
  assert.equal(await itemCount(ws, "big"), n);
  // Killed before its end, the run recorded no discovery event and stored no digest: this run
  // read the file again. (A kill that came after the end leaves nothing to prove.) PostgreSQL
  // may still commit a transaction of the killed run after it is gone: the split is not exact.
  if (recorded < n) {
    const [message, ...more] = await discoveries(ws, "big");
    assert.deepEqual(more, []);
    const [, found, fresh, unchanged] = /^found (\d+): (\d+) new, 0 updated, (\d+) unchanged$/
      .exec(message)!.map(Number);
    assert.deepEqual([found, fresh + unchanged], [n, n]);
  }
});
