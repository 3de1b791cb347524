import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tempDb } from "./_helpers.ts";
import type { SourceHold } from "../../src/db/store.ts";

function hold(over: Partial<SourceHold>): SourceHold {
  return {
    scope: "url",
    target: "http://a.test/feed",
    host: "a.test",
    jobId: "j",
    failures: 0,
    untilAt: 1_000,
    reason: "max-age=60",
    error: null,
    skipHours: [],
    skipDays: [],
    updatedAt: 10,
    ...over,
  };
}

Deno.test("source holds are written, replaced, listed soonest first and cleared", async () => {
  await using t = await tempDb();
  const feed = hold({ skipHours: [0, 23], skipDays: [6] });
  const failing = hold({
    target: "http://b.test/sitemap.xml",
    host: "b.test",
    jobId: "k",
    failures: 3,
    untilAt: 500,
    reason: "failed 3 times in a row",
    error: "HTTP 503 from http://b.test/sitemap.xml",
  });
  const host = hold({ scope: "host", target: "a.test", untilAt: 2_000, reason: "Retry-After: 2" });
  await t.db.saveSourceHolds({ put: [feed, failing, host], clear: [] });
  assertEquals(await t.db.sourceHolds(), [failing, feed, host]);
  assertEquals(await t.db.sourceHolds({ jobId: "k" }), [failing]);

  const again = { ...failing, failures: 4, untilAt: 3_000, reason: "failed 4 times in a row" };
  await t.db.saveSourceHolds({ put: [again], clear: [{ scope: "url", target: feed.target }] });
  assertEquals(await t.db.sourceHolds(), [host, again]);
});

Deno.test("waking a job clears its sources' holds and those of their hosts, not others'", async () => {
  await using t = await tempDb();
  const mine = hold({ failures: 2, untilAt: 9_000 });
  const hostHold = hold({ scope: "host", target: "a.test", jobId: "other" });
  const sameHostOther = hold({ target: "http://a.test/other", jobId: "other" });
  const elsewhere = hold({ target: "http://c.test/x", host: "c.test", jobId: "other" });
  await t.db.saveSourceHolds({ put: [mine, hostHold, sameHostOther, elsewhere], clear: [] });
  await t.db.wakeJob("j", 5_000);
  assertEquals(await t.db.sourceHolds(), [sameHostOther, elsewhere]);
  assertEquals((await t.db.getJobState("j")).wakeRequestedAt, 5_000);
});
