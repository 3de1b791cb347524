/**
 * Child process of the memory tests: runs the discovery `Deno.args[0]` ("rss" of a URL, or
 * "csv" of a file path) on `Deno.args[1]`, reads every item, and prints, as one JSON line, the
 * error message (if any), how many items it read and its own peak resident memory (maxRSS) in kB.
 */
import { join } from "node:path";
import process from "node:process";
import { openDb } from "../../src/db/mod.ts";
import { RssDiscovery, schema as rssSchema } from "../../src/discovery/rss.ts";
import { CsvDiscovery, schema as csvSchema } from "../../src/discovery/csv.ts";
import type { DiscoveryEnv } from "../../src/discovery/base.ts";
import { silentLogger } from "../../src/util/log.ts";

const [kind, source] = Deno.args;
const dir = await Deno.makeTempDir({ prefix: "jobs-peak-rss-" });
const db = await openDb(join(dir, "jobs.sqlite"));
const env: DiscoveryEnv = { db, jobId: "peak", configDir: dir, log: silentLogger };
let error: string | undefined;
let items = 0;
try {
  // The memory bound is the subject, not speed: a busy machine gets all the time it needs.
  const discovery = kind === "csv"
    ? new CsvDiscovery(csvSchema.parse({ path: source, max_bytes: "1GB" }), env)
    : new RssDiscovery(rssSchema.parse({ url: source, retries: 0, timeout: "10m" }), env);
  const result = await discovery.discover();
  // The items are made as they are read: read them all, as recording them would.
  for (const _item of result.items) items++;
} catch (err) {
  error = (err as Error).message;
} finally {
  await db.close();
  await Deno.remove(dir, { recursive: true });
}
const peakKb = process.resourceUsage().maxRSS;
console.log(JSON.stringify({ error, items, peakKb }));
