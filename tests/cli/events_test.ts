import { deepStrictEqual as assertEquals, equal } from "node:assert/strict";
import { openDb } from "../../src/db/mod.ts";

import { command, jobs, MINUTE, postUrl, workspace } from "./_seed.ts";

interface Printed {
  jobId: string | null;
  kind: string;
  stage: string | null;
  itemKey: string | null;
  message: string;
}

function brief(events: Printed[]): (string | null)[][] {
  return events.map((e) => [e.jobId, e.kind, e.stage, e.itemKey, e.message]);
}

/** A time as the commands print it. */
function at(ts: number): string {
  return new Date(ts).toISOString().slice(0, 19).replace("T", " ") + "Z";
}

Deno.test("jobs events --json lists matching events oldest first, with item keys", async () => {
  await using w = await workspace();
  const failed = await jobs(w.dir, ["events", "-j", "feed", "--kind", "failed", "--json"]);
  equal(failed.code, 0, failed.stderr);
  assertEquals(brief(JSON.parse(failed.stdout)), [
    ["feed", "failed", "fetch", "k9", `HTTP 500 from ${postUrl(9)}`],
    ["feed", "failed", "parse", "k7", "Cannot parse JSON at line 3"],
  ]);
  const all = await jobs(w.dir, ["events", "--json"]);
  equal(JSON.parse(all.stdout).length, 19);
  // Yesterday's cost is older than 2h.
  const recent = await jobs(w.dir, ["events", "--since", "2h", "--json"]);
  equal(JSON.parse(recent.stdout).length, 18);
  const latest = await jobs(w.dir, ["events", "--limit", "2", "--json"]);
  assertEquals(brief(JSON.parse(latest.stdout)), [
    ["feed", "cost", "fetch", null, "$0.5"],
    ["notes", "pause", null, null, "disk full"],
  ]);
});

Deno.test("jobs events --item prints one line per event of that item", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["events", "-j", "feed", "--item", "k10"]);
  equal(out.code, 0);
  equal(out.stdout, `${at(w.now - 30 * MINUTE)}  feed  retry  fetch/k10  timeout after 30s\n`);
});

Deno.test("jobs events --follow prints each new event of the job until SIGINT, then exits 0", async () => {
  await using w = await workspace();
  const child = command(w.dir, ["events", "-j", "feed", "--follow", "--limit", "1", "--json"])
    .spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const until = async (wanted: string) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`No "${wanted}" in: ${text}`)), 15_000);
    });
    try {
      while (!text.includes(wanted)) {
        const { value, done } = await Promise.race([reader.read(), timeout]);
        if (done) throw new Error(`Output ended without "${wanted}": ${text}`);
        text += value;
      }
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    await until('"message":"$0.5"');
    const db = await openDb(w.dbPath);
    const k3 = await db.findItem({ jobId: "feed", key: "k3" });
    await db.logEvent({ jobId: "notes", kind: "note", message: "not for feed" });
    await db.logEvent({
      jobId: "feed",
      itemId: k3!.id,
      stage: "parse",
      kind: "note",
      message: "hello",
    });
    await db.close();
    await until('"message":"hello"');
    child.kill("SIGINT");
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
    const status = await child.status;
    equal(status.code, 0);
    assertEquals(brief(text.trim().split("\n").map((line) => JSON.parse(line))), [
      ["feed", "cost", "fetch", null, "$0.5"],
      ["feed", "note", "parse", "k3", "hello"],
    ]);
  } finally {
    await reader.cancel().catch(() => {});
    await child.stderr.cancel();
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
  }
});

Deno.test("jobs events rejects --item without a job and a bad --since; an unknown item exits 1", async () => {
  await using w = await workspace();
  const cases: [string[], number, string][] = [
    [["events", "--item", "k1"], 2, "--item needs a job: jobs events -j JOB --item KEY\n"],
    [
      ["events", "--since", "soon"],
      2,
      '--since: expected a duration like "30s", got "soon"\n',
    ],
    [["events", "-j", "feed", "--item", "nope"], 1, 'No item "nope" in job "feed"\n'],
  ];
  for (const [args, code, message] of cases) {
    const out = await jobs(w.dir, args);
    assertEquals([out.code, out.stdout, out.stderr], [code, "", message]);
  }
});
