import type { Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";

import { parseItemsQuery, renderItemsPage } from "../../src/dashboard/items_page.ts";
import { NOW, pageContext, texts } from "./_page_context.ts";

const KEYS = Array.from({ length: 120 }, (_, i) => `i${String(i).padStart(3, "0")}`);
const FAILING = ["i001", "i050", "i100"];

/** 120 items of feed; i001, i050 and i100 failed at fetch with a traceback. */
async function seed(db: Store): Promise<void> {
  const stages = ["fetch", "parse", "store"];
  await db.upsertItems({ jobId: "feed", stages, items: KEYS.map((key) => ({ key, data: {} })) });
  const claims = await db.claimBatch({
    jobId: "feed",
    stage: "fetch",
    runId: "r",
    limit: 120,
    leaseMs: 60_000,
    now: () => NOW,
  });
  await db.markFailed({
    jobId: "feed",
    runId: "r",
    items: claims.filter((c) => FAILING.includes(c.key)).map((c) => ({
      itemId: c.itemId,
      stage: "fetch",
      error: `Traceback (most recent call last):\n  File "h.py", line 9\nKeyError: '${c.key}'`,
      permanent: true,
      retries: 0,
      backoffMs: 1000,
    })),
    now: () => NOW,
  });
  // The others go back to pending, as a finished run leaves them.
  await db.releaseClaims({ runId: "r" });
}

function page(params: Record<string, string>) {
  return new URLSearchParams(params);
}

Deno.test("parseItemsQuery() reads status, stage, error and the page's cursor, naming a wrong one", async () => {
  await using ctx = await pageContext();
  const feed = ctx.config.jobs[0];
  assertEquals(parseItemsQuery(feed, page({ status: "failed", stage: "fetch", after: "57" })), {
    status: "failed",
    stage: "fetch",
    error: undefined,
    after: 57,
    before: undefined,
  });
  assertEquals(parseItemsQuery(feed, page({ error: "HTTP 5", before: "3" })), {
    status: undefined,
    stage: undefined,
    error: "HTTP 5",
    after: undefined,
    before: 3,
  });
  assertEquals(
    parseItemsQuery(feed, page({ status: "broken" })),
    'Unknown status "broken": expected pending, in_progress, done, failed',
  );
  assertEquals(parseItemsQuery(feed, page({ stage: "nope" })), 'Job "feed" has no stage "nope"');
  for (const bad of ["-1", "x", "1.5", ""]) {
    assertEquals(
      parseItemsQuery(feed, page({ after: bad })),
      `"after" is "${bad}", not an item id (0, 1, 2, …)`,
    );
  }
  assertEquals(
    parseItemsQuery(feed, page({ after: "1", before: "9" })),
    'Give "after" or "before", not both',
  );
});

Deno.test("renderItemsPage() lists 50 items a page, next after the last item, previous before the first", async () => {
  await using ctx = await pageContext();
  await seed(ctx.db);
  const feed = ctx.config.jobs[0];
  const pending = KEYS.filter((k) => !FAILING.includes(k));
  const ids = new Map(
    (await ctx.db.listItems({ jobId: "feed", limit: 1000 })).map((i) => [i.key, i.id]),
  );
  const render = async (query: { after?: number; before?: number }) =>
    (await renderItemsPage(ctx, { job: feed, query: { status: "pending", ...query } })).value;
  const path = (cursor: string) => `/jobs/feed/items?status=pending&amp;${cursor}`;

  const first = await render({});
  assertEquals(texts(first, "<h1"), ["feed: pending items"]);
  assertEquals(items(first), pending.slice(0, 50));
  assertEquals(texts(first, '<nav class="pager'), ["50 items · "]);
  assertEquals(links(first), [["next", path(`after=${ids.get(pending[49])}`)]]);

  const second = await render({ after: ids.get(pending[49]) });
  assertEquals(items(second), pending.slice(50, 100));
  assertEquals(links(second), [
    ["prev", path(`before=${ids.get(pending[50])}`)],
    ["next", path(`after=${ids.get(pending[99])}`)],
  ]);

  const third = await render({ after: ids.get(pending[99]) });
  assertEquals(items(third), pending.slice(100));
  assertEquals(texts(third, '<nav class="pager'), ["17 items · "]);
  assertEquals(links(third), [["prev", path(`before=${ids.get(pending[100])}`)]]);

  // Back from the third page: the second, then the first, which has no previous page.
  const back = await render({ before: ids.get(pending[100]) });
  assertEquals(items(back), pending.slice(50, 100));
  assertEquals(links(back), links(second));
  const start = await render({ before: ids.get(pending[50]) });
  assertEquals(items(start), pending.slice(0, 50));
  assertEquals(links(start), [["next", path(`after=${ids.get(pending[49])}`)]]);

  const past = await render({ after: ids.get(pending.at(-1)!) });
  assertEquals(items(past), []);
  assertEquals(texts(past, '<nav class="pager'), ["No items on this page · "]);
  assertEquals(links(past), [["prev", "/jobs/feed/items?status=pending"]]);
});

Deno.test("renderItemsPage() lists the items failed at a stage with the end of their error", async () => {
  await using ctx = await pageContext();
  await seed(ctx.db);
  const html = (await renderItemsPage(ctx, {
    job: ctx.config.jobs[0],
    query: { status: "failed", stage: "fetch" },
  })).value;
  assertEquals(texts(html, "<h1"), ["feed: failed at fetch"]);
  assertEquals(items(html), FAILING);
  assertEquals(texts(html, '<td class="error'), [
    "Traceback (most recent call last): File &quot;h.py&quot;, line 9 KeyError: &#39;i001&#39;",
    "Traceback (most recent call last): File &quot;h.py&quot;, line 9 KeyError: &#39;i050&#39;",
    "Traceback (most recent call last): File &quot;h.py&quot;, line 9 KeyError: &#39;i100&#39;",
  ]);
  assertEquals(links(html), []);
});

function items(html: string): string[] {
  return [...html.matchAll(/<tr data-item="([^"]+)"/g)].map((m) => m[1]);
}

function links(html: string): string[][] {
  return [...html.matchAll(/<a rel="(prev|next)" href="([^"]+)"/g)].map((m) => [m[1], m[2]]);
}
