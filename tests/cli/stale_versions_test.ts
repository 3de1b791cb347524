/**
 * A handler version bumped in a module or in jobs.yaml shows stale results before the next
 * run: in `jobctl status`, `jobctl reprocess --stale` and the dashboard.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { StatusReport } from "../../src/status/report.ts";

import { Browser } from "../dashboard/_cdp.ts";
import { startDashboard } from "../dashboard/_server.ts";
import { jobs } from "./_seed.ts";

const CONFIG = (summarizeVersion: string) =>
  `jobs:
  feed:
    discovery: { strategy: static, items: [{ key: a }, { key: b }, { key: c }] }
    stages:
      - name: fetch
        handler: ./fetch.ts
      - name: tag
        command: ["sh", "-c", "cat >/dev/null; echo '{}'"]
      - name: summarize
        command: ["sh", "-c", "cat >/dev/null; echo '{}'"]
        version: "${summarizeVersion}"
`;

function fetchModule(version: string): string {
  // What it prints while loading stays out of `jobctl status --json`.
  return `console.log("loading fetch"); console.error("still loading");\n` +
    `export const HANDLER_VERSION = ${JSON.stringify(version)};\n` +
    "export default () => ({ fetched: true });\n";
}

async function staleCounts(dir: string): Promise<Record<string, number>> {
  const out = await jobs(dir, ["status", "--json"]);
  assert.equal(out.code, 0, out.stderr);
  const report: StatusReport = JSON.parse(out.stdout);
  return Object.fromEntries(report.jobs[0].stages.map((s) => [s.stage, s.stale]));
}

Deno.test("a bumped HANDLER_VERSION or version: counts as stale at once, before any run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jobs_stale_" });
  try {
    await Deno.writeTextFile(join(dir, "jobs.yaml"), CONFIG("s1"));
    await Deno.writeTextFile(join(dir, "fetch.ts"), fetchModule("1"));
    const first = await jobs(dir, ["run"]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(await staleCounts(dir), { fetch: 0, tag: 0, summarize: 0 });

    // The module's version changes; no run follows.
    await Deno.writeTextFile(join(dir, "fetch.ts"), fetchModule("2"));
    assert.deepEqual(await staleCounts(dir), { fetch: 3, tag: 0, summarize: 0 });
    const text = await jobs(dir, ["status"]);
    assert.match(text.stdout, /^ {2}fetch +0 +0 +0 +3 +0 +0 +3 +\d+$/m);
    const dry = await jobs(dir, ["reprocess", "-j", "feed", "--stale", "--dry-run", "--json"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(
      [JSON.parse(dry.stdout).items, JSON.parse(dry.stdout).fromStage],
      [3, "fetch"],
    );

    await using browser = await Browser.launch();
    const page = await browser.newPage();
    {
      await using dashboard = await startDashboard(dir);
      assert.equal(await page.goto(`${dashboard.url}jobs/feed`), 200);
      const stale = (field: string) => page.text(`[data-job="feed"][data-field="${field}"]`);
      assert.deepEqual([await stale("stale"), await stale("stages.fetch.stale")], ["3", "3"]);

      // Back to the version the last run recorded: nothing is stale, without a restart.
      await Deno.writeTextFile(join(dir, "fetch.ts"), fetchModule("1") + "// same version\n");
      assert.equal(await page.goto(`${dashboard.url}jobs/feed`), 200);
      assert.deepEqual([await stale("stale"), await stale("stages.fetch.stale")], ["0", "0"]);
    }

    // A stage's version: in jobs.yaml changes; the reset follows the configured versions.
    await Deno.writeTextFile(join(dir, "jobs.yaml"), CONFIG("s2"));
    assert.deepEqual(await staleCounts(dir), { fetch: 0, tag: 0, summarize: 3 });
    const reset = await jobs(dir, ["reprocess", "-j", "feed", "--stale"]);
    assert.equal(
      reset.stdout,
      "Reset 3 items of feed from stage summarize (summarize); the next run processes them\n",
    );
    assert.deepEqual(await staleCounts(dir), { fetch: 0, tag: 0, summarize: 0 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
