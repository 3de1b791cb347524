import type { ItemDetail } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals, equal, match } from "node:assert/strict";
import { hashUrl } from "../../src/discovery/base.ts";
import { openDb } from "../../src/db/mod.ts";

import { HOUR, jobs, MINUTE, postUrl, workspace } from "./_seed.ts";

/** A time as the commands print it. */
function at(ts: number): string {
  return new Date(ts).toISOString().slice(0, 19).replace("T", " ") + "Z";
}

Deno.test("jobctl item --json shows the item's stages, attempts, errors, results and events", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["item", "-j", "feed", "k7", "--json"]);
  equal(out.code, 0, out.stderr);
  const item: ItemDetail = JSON.parse(out.stdout);
  assertEquals([item.key, item.status, item.data], ["k7", "failed", {
    url: postUrl(7),
    title: "Post 7",
  }]);
  assertEquals(
    item.stages.map((s) => [s.stage, s.status, s.attempts, s.finishedAt, s.error]),
    [
      ["fetch", "done", 1, w.now - 30 * MINUTE, null],
      ["parse", "failed", 1, w.now - 10 * MINUTE, "Cannot parse JSON at line 3"],
      ["store", "pending", 0, null, null],
    ],
  );
  assertEquals(item.results.map((r) => [r.stage, r.handlerVersion, r.result]), [
    ["fetch", "1", { key: "k7" }],
  ]);
  assertEquals(item.events.map((e) => [e.kind, e.stage, e.message]), [
    ["cost", "fetch", "$0.125"],
    ["failed", "parse", "Cannot parse JSON at line 3"],
  ]);
});

Deno.test("jobctl item prints the stage table, the results and the events", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["item", "-j", "feed", "k10"]);
  equal(out.code, 0);
  const lines = out.stdout.split("\n");
  equal(lines[0], "feed / k10: pending");
  equal(lines[2], `  data {"url":"${postUrl(10)}","title":"Post 10"}`);
  equal(
    lines[4],
    "  stage  status   attempts  crashes  started               finished              error",
  );
  equal(
    lines[5],
    `  fetch  pending         1        0  ${at(w.now - 3 * HOUR)}  ${
      at(w.now - 30 * MINUTE)
    }  timeout after 30s`,
  );
  equal(lines[6], "  parse  pending         0        0  -                     -");
  match(out.stdout, /\n {2}results: none\n/);
  match(
    out.stdout,
    /\n {2}events, newest first:\n {4}\S+ \S+Z {2}retry fetch: timeout after 30s\n$/,
  );
});

Deno.test("jobctl item finds an item by URL: by the URL's hash, else by data.url", async () => {
  await using w = await workspace();
  const db = await openDb(w.dbPath);
  const hashed = hashUrl("https://example.org/read?id=4");
  await db.upsertItems({
    jobId: "feed",
    stages: ["fetch", "parse", "store"],
    items: [{ key: hashed, data: { title: "Hashed" } }],
  });
  await db.close();
  const byHash = await jobs(w.dir, [
    "item",
    "-j",
    "feed",
    "https://example.org/read?utm_source=x&id=4#top",
    "--json",
  ]);
  equal(byHash.code, 0, byHash.stderr);
  equal(JSON.parse(byHash.stdout).key, hashed);
  const byData = await jobs(w.dir, ["item", "-j", "feed", postUrl(9), "--json"]);
  equal(JSON.parse(byData.stdout).key, "k9");
});

Deno.test("jobctl item exits 1 for an unknown item, 2 without exactly one key", async () => {
  await using w = await workspace();
  const unknown = await jobs(w.dir, ["item", "-j", "feed", "nope"]);
  assertEquals([unknown.code, unknown.stdout, unknown.stderr], [
    1,
    "",
    'No item "nope" in job "feed"\n',
  ]);
  const other = await jobs(w.dir, ["item", "-j", "notes", "k1"]);
  equal(other.code, 1);
  for (const args of [["item", "-j", "feed"], ["item", "-j", "feed", "k1", "k2"]]) {
    const out = await jobs(w.dir, args);
    assertEquals([out.code, out.stderr], [
      2,
      "jobctl item needs exactly one item key or URL: jobctl item -j JOB KEY|URL\n",
    ]);
  }
  const noJob = await jobs(w.dir, ["item", "k1"]);
  assertEquals([noJob.code, noJob.stderr], [2, "jobctl item needs a job: jobctl item -j JOB\n"]);
});
