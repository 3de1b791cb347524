import { deepStrictEqual as assertEquals, equal } from "node:assert/strict";
import { renderJobPage } from "../../src/dashboard/job_page.ts";
import { renderOverview } from "../../src/dashboard/overview_page.ts";
import { pageContext, texts } from "./_page_context.ts";

/** [field, text, link] of every figure: its data-field, what it shows, where it links. */
function figures(html: string): [string, string, string | null][] {
  const figure = /(?:<a href="([^"]+)">)?<span data-job="feed" data-field="([^"]+)">([^<]*)</g;
  return [...html.matchAll(figure)].map((m) => [m[2], m[3], m[1] ?? null]);
}

Deno.test("the job page counts rows behind a failed stage as blocked, apart from pending", async () => {
  await using ctx = await pageContext({ seeded: true });
  const html = (await renderJobPage(ctx, { jobId: "feed", events: "failures" }))!.value;
  const shown = new Map(figures(html).map(([field, text]) => [field, text]));
  // 4 items failed at fetch wait at parse and store; 2 failed at parse wait at store.
  assertEquals(
    ["fetch", "parse", "store"].map((
      s,
    ) => [shown.get(`stages.${s}.pending`), shown.get(`stages.${s}.blocked`)]),
    [["0", "0"], ["0", "4"], ["16", "6"]],
  );
  equal(shown.get("cost.todayUsd"), "$0.775");
});

Deno.test("failed and in-progress counts link to those items, on the job page and the overview", async () => {
  await using ctx = await pageContext({ seeded: true });
  for (
    const page of [
      (await renderJobPage(ctx, { jobId: "feed", events: "failures" }))!,
      await renderOverview(ctx),
    ]
  ) {
    const links = figures(page.value).filter(([, , link]) => link !== null);
    assertEquals(links.filter(([field]) => field.startsWith("stages.")), [
      ["stages.fetch.failed", "4", "/jobs/feed/items?status=failed&amp;stage=fetch"],
      ["stages.parse.inProgress", "4", "/jobs/feed/items?status=in_progress&amp;stage=parse"],
      ["stages.parse.failed", "2", "/jobs/feed/items?status=failed&amp;stage=parse"],
    ]);
  }
  const job = (await renderJobPage(ctx, { jobId: "feed", events: "failures" }))!.value;
  assertEquals(figures(job).filter(([field]) => field.startsWith("items.")), [
    ["items.total", "22", "/jobs/feed/items"],
    ["items.pending", "12", "/jobs/feed/items?status=pending"],
    ["items.inProgress", "4", "/jobs/feed/items?status=in_progress"],
    ["items.done", "0", null],
    ["items.failed", "6", "/jobs/feed/items?status=failed"],
  ]);
});

Deno.test("the job page's recent events are its failures unless another choice is made", async () => {
  await using ctx = await pageContext({ seeded: true });
  const failures = (await renderJobPage(ctx, { jobId: "feed", events: "failures" }))!.value;
  assertEquals(
    texts(failures, '<span class="badge"'),
    Array(6).fill("failed"),
  );
  const costs = (await renderJobPage(ctx, { jobId: "feed", events: "cost" }))!.value;
  assertEquals(
    texts(costs, '<span class="badge"'),
    Array(4).fill("cost"),
  );
});
