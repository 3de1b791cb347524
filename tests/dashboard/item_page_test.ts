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
