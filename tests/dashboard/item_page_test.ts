import assert from "node:assert/strict";

import { renderItemPage } from "../../src/dashboard/item_page.ts";
import { NOW, pageContext } from "./_page_context.ts";

Deno.test("renderItemPage() links an emitted item to the item whose stage emitted it", async () => {
  await using ctx = await pageContext();
  const { db } = ctx;
  await db.upsertItems({ jobId: "feed", stages: ["fetch"], items: [{ key: "index 1", data: {} }] });
  const [claim] = await db.claimBatch({
    jobId: "feed",
    stage: "fetch",
    runId: "r",
    limit: 1,
    leaseMs: 60_000,
    now: () => NOW,
  });
  await db.markDone({
    jobId: "feed",
    runId: "r",
    items: [{
      itemId: claim.itemId,
      stage: "fetch",
      position: 0,
      result: null,
      handlerVersion: null,
      emit: [{ jobId: "notes", stages: ["store"], items: [{ key: "child", data: {} }] }],
    }],
    now: () => NOW,
  });
  const child = (await renderItemPage(ctx, { jobId: "notes", key: "child" }))!.value;
  assert.match(
    child,
    /· emitted by <a class="mono" href="\/jobs\/feed\/items\/index%201">feed \/ index 1<\/a>\s*<\/p>/,
  );
  const parent = (await renderItemPage(ctx, { jobId: "feed", key: "index 1" }))!.value;
  assert.doesNotMatch(parent, /emitted by/);
});

Deno.test("renderItemPage() shows each stage's attempts that never finished apart", async () => {
  await using ctx = await pageContext();
  const { db } = ctx;
  await db.upsertItems({ jobId: "feed", stages: ["fetch"], items: [{ key: "a", data: {} }] });
  const claim = () =>
    db.claimBatch({
      jobId: "feed",
      stage: "fetch",
      runId: "r",
      limit: 1,
      leaseMs: 1_000,
      now: () => NOW,
    });
  // Two claims whose leases ran out while their handler ran (the runner notes the start of a
  // claim that crashed before), then a third that failed.
  for (let i = 0; i < 2; i++) {
    const [running] = await claim();
    if (running.crashes > 0) await db.markStarted({ runId: "r", items: [running] });
    await db.reconcileExpiredLeases({ now: () => NOW + 2_000 });
  }
  const [last] = await claim();
  await db.markFailed({
    jobId: "feed",
    runId: "r",
    items: [{
      itemId: last.itemId,
      stage: "fetch",
      error: "boom",
      permanent: true,
      retries: 0,
      backoffMs: 1_000,
    }],
    now: () => NOW,
  });
  const page = (await renderItemPage(ctx, { jobId: "feed", key: "a" }))!.value;
  assert.match(page, /<th class="num"\s+title="[^"]*">Crashes<\/th>/);
  assert.match(
    page,
    /<td>fetch<\/td>\s*<td><span class="badge failed">failed<\/span><\/td>\s*<td class="num">1<\/td>\s*<td class="num">2<\/td>/,
  );
});
