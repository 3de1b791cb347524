import type { Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";

import { eventsChoice, recentEvents } from "../../src/dashboard/recent_events.ts";
import { pageContext, texts } from "./_page_context.ts";

/** 30 costs with failures between them, and a custom "note" event last. */
async function seed(db: Store): Promise<void> {
  const costs = async (n: number) => {
    for (let i = 0; i < n; i++) await db.logCost({ jobId: "feed", stage: "parse", usd: 0.5 });
  };
  await db.logEvent({ jobId: "feed", kind: "failed", stage: "fetch", message: "HTTP 500" });
  await costs(10);
  await db.logEvent({ jobId: "feed", kind: "retry", stage: "fetch", message: "timeout" });
  await costs(10);
  await db.logEvent({ jobId: "feed", kind: "discovery_error", message: "feed is down" });
  await costs(10);
  await db.logEvent({ jobId: "feed", kind: "failed", stage: "parse", message: "no title" });
  await db.logEvent({ jobId: "notes", kind: "failed", stage: "tag", message: "other job" });
  await db.logEvent({ jobId: "feed", kind: "note", message: "hello" });
}

function kinds(html: string): string[] {
  return texts(html, '<span class="badge"');
}

function selected(html: string): string[] {
  return [...html.matchAll(/<option value="([^"]+)"\s+selected>/g)].map((m) => m[1]);
}

Deno.test("eventsChoice() is ?events=, failures when the address names none", () => {
  assertEquals(eventsChoice(new URLSearchParams("events=cost")), "cost");
  assertEquals(eventsChoice(new URLSearchParams("")), "failures");
  assertEquals(eventsChoice(new URLSearchParams("events=")), "failures");
});

Deno.test("recentEvents() shows failures first by default, newest first, however many costs follow", async () => {
  await using ctx = await pageContext();
  await seed(ctx.db);
  const html = (await recentEvents(ctx, { jobId: "feed", choice: "failures" })).value;
  assertEquals(kinds(html), ["failed", "discovery_error", "retry", "failed"]);
  assertEquals(selected(html), ["failures"]);
});

Deno.test("recentEvents() shows every event or one kind when asked", async () => {
  await using ctx = await pageContext();
  await seed(ctx.db);
  const all = (await recentEvents(ctx, { jobId: "feed", choice: "all" })).value;
  assertEquals(kinds(all), [
    "note",
    "failed",
    ...Array(10).fill("cost"),
    "discovery_error",
    ...Array(10).fill("cost"),
    "retry",
    "cost",
  ]);
  const costs = (await recentEvents(ctx, { jobId: "feed", choice: "cost" })).value;
  assertEquals(kinds(costs), Array(25).fill("cost"));
  assertEquals(selected(costs), ["cost"]);
  // A kind the list does not offer is added to it, selected.
  const notes = (await recentEvents(ctx, { jobId: "feed", choice: "note" })).value;
  assertEquals([kinds(notes), selected(notes)], [["note"], ["note"]]);
  const none = (await recentEvents(ctx, { jobId: "feed", choice: "budget" })).value;
  assertEquals(texts(none, '<p class="muted"'), [
    "No budget events.",
  ]);
});

Deno.test("recentEvents() says so when there is no failure", async () => {
  await using ctx = await pageContext();
  await ctx.db.logCost({ jobId: "feed", stage: "parse", usd: 0.5 });
  const html = (await recentEvents(ctx, { jobId: "feed", choice: "failures" })).value;
  assertEquals(texts(html, '<p class="muted"'), [
    "No failed attempts or discovery errors.",
  ]);
});
