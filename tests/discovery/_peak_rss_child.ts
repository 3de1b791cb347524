/**
 * Child process of the memory tests: discovers the feed at Deno.args[0] and prints, as one JSON
 * line, the error message (if any) and its own peak resident memory (maxRSS) in kB.
 */
import { join } from "node:path";
import process from "node:process";
import { openDb } from "../../src/db/mod.ts";
import { RssDiscovery, schema } from "../../src/discovery/rss.ts";
import { silentLogger } from "../../src/util/log.ts";

const dir = await Deno.makeTempDir({ prefix: "jobs-peak-rss-" });
const db = await openDb(join(dir, "jobs.sqlite"));
let error: string | undefined;
try {
  // The memory bound is the subject, not speed: a busy machine gets all the time it needs.
  const options = schema.parse({ url: Deno.args[0], retries: 0, timeout: "10m" });
  const result = await new RssDiscovery(options, {
    db,
    jobId: "peak",
    configDir: dir,
    log: silentLogger,
  }).discover();
  // The items are made as they are read: read them all, as recording them would.
  for (const _item of result.items);
} catch (err) {
  error = (err as Error).message;
} finally {
  await db.close();
  await Deno.remove(dir, { recursive: true });
}
const peakKb = process.resourceUsage().maxRSS;
console.log(JSON.stringify({ error, peakKb }));
