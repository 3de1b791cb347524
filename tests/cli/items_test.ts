import type { ItemListing } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals, equal } from "node:assert/strict";

import { openDb } from "../../src/db/mod.ts";
import { jobs, workspace } from "./_seed.ts";

async function listed(dir: string, args: string[]): Promise<string[][]> {
  const out = await jobs(dir, ["items", "-j", "feed", "--json", ...args]);
  equal(out.code, 0, out.stderr);
  return (JSON.parse(out.stdout) as ItemListing[]).map((item) => [
    item.key,
    item.status,
    ...item.stages.map((s) => s.status),
  ]);
}

Deno.test("jobctl items --json lists every item with its derived status and stages", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["items", "-j", "feed", "--json"]);
  equal(out.code, 0);
  const items: ItemListing[] = JSON.parse(out.stdout);
  assertEquals(items[6], {
    id: items[6].id,
    key: "k7",
    status: "failed",
    stages: [
      { stage: "fetch", status: "done", attempts: 1, error: null },
      { stage: "parse", status: "failed", attempts: 1, error: "Cannot parse JSON at line 3" },
      { stage: "store", status: "pending", attempts: 0, error: null },
    ],
  });
  assertEquals(items.map((i) => [i.key, i.status]), [
    ["k1", "done"],
    ["k2", "done"],
    ["k3", "done"],
    ["k4", "pending"],
    ["k5", "pending"],
    ["k6", "pending"],
    ["k7", "failed"],
    ["k8", "in_progress"],
    ["k9", "failed"],
    ["k10", "pending"],
  ]);
});

Deno.test("jobctl items filters by status, by the stage items wait at, by error, with a limit", async () => {
  await using w = await workspace();
  assertEquals(await listed(w.dir, ["--status", "failed"]), [
    ["k7", "failed", "done", "failed", "pending"],
    ["k9", "failed", "failed", "pending", "pending"],
  ]);
  assertEquals(await listed(w.dir, ["--status", "in_progress"]), [
    ["k8", "in_progress", "done", "in_progress", "pending"],
  ]);
  assertEquals((await listed(w.dir, ["--stage", "parse"])).map((r) => r[0]), ["k7", "k8"]);
  assertEquals((await listed(w.dir, ["--stage", "store"])).map((r) => r[0]), ["k4", "k5", "k6"]);
  assertEquals((await listed(w.dir, ["--error", "HTTP 500"])).map((r) => r[0]), ["k9"]);
  assertEquals((await listed(w.dir, ["--status", "pending", "--limit", "2"])).map((r) => r[0]), [
    "k4",
    "k5",
  ]);
});

Deno.test("jobctl items prints a table with each stage's status and the error", async () => {
  await using w = await workspace();
  const failed = await jobs(w.dir, ["items", "-j", "feed", "--status", "failed"]);
  equal(failed.code, 0);
  equal(
    failed.stdout,
    "key  status  fetch   parse    store    error\n" +
      "k7   failed  done    failed   pending  Cannot parse JSON at line 3\n" +
      "k9   failed  failed  pending  pending  HTTP 500 from https://example.org/posts/9\n" +
      "\n2 items\n",
  );
  const limited = await jobs(w.dir, ["items", "-j", "feed", "--limit", "1"]);
  equal(
    limited.stdout,
    "key  status  fetch  parse  store  error\n" +
      "k1   done    done   done   done\n" +
      "\n1 item; more may match (--limit 1)\n",
  );
  const none = await jobs(w.dir, ["items", "-j", "notes", "--status", "done"]);
  equal(none.stdout, "No items match\n");
});

Deno.test("jobctl items rejects a missing job, an unknown status or stage and a bad limit with exit 2", async () => {
  await using w = await workspace({ seed: false });
  const cases: [string[], string][] = [
    [["items"], "jobctl items needs a job: jobctl items -j JOB\n"],
    [
      ["items", "-j", "feed", "--status", "stuck"],
      '--status expects one of pending, in_progress, done, failed, got "stuck"\n',
    ],
    [
      ["items", "-j", "feed", "--stage", "nope"],
      'Unknown stage "nope" of job "feed"; its stages: fetch, parse, store\n',
    ],
    [["items", "-j", "feed", "--limit", "0"], '--limit expects a positive whole number, got "0"\n'],
  ];
  for (const [args, message] of cases) {
    const out = await jobs(w.dir, args);
    assertEquals([out.code, out.stdout, out.stderr], [2, "", message]);
  }
});

Deno.test("jobctl items shows the end of a long error, where a traceback gives the reason", async () => {
  await using w = await workspace();
  const db = await openDb(w.dbPath);
  try {
    await db.upsertItems({ jobId: "notes", stages: ["tag"], items: [{ key: "n3", data: {} }] });
    await db.setJobPaused({ jobId: "notes", paused: false });
    const [claim] = await db.claimBatch({
      jobId: "notes",
      stage: "tag",
      runId: "r1",
      limit: 1,
      leaseMs: 60_000,
    });
    await db.markFailed({
      jobId: "notes",
      runId: "r1",
      items: [{
        itemId: claim.itemId,
        stage: "tag",
        error: `Command "python3" exited with code 1; stderr: Traceback (most recent call last):
  File "/srv/handlers/tag.py", line 41, in <module>
    main(json.load(sys.stdin))
ValueError: no title in ${claim.key}`,
        permanent: true,
        retries: 0,
        backoffMs: 1000,
      }],
    });
  } finally {
    await db.close();
  }
  const out = await jobs(w.dir, ["items", "-j", "notes", "--status", "failed"]);
  equal(
    out.stdout,
    "key  status  tag     error\n" +
      'n1   failed  failed  Command "python3" exited with… ValueError: no title in n1\n' +
      "\n1 item\n",
  );
});
