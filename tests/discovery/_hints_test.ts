import assert from "node:assert/strict";
import {
  dayNumber,
  httpRules,
  outsideSkips,
  refetchHint,
  ttlRules,
} from "../../src/discovery/_hints.ts";
import { retryAfterMs } from "../../src/util/retry_after.ts";

const NOW = Date.UTC(2024, 4, 6, 10, 30); // a Monday, 10:30 UTC

Deno.test("httpRules() reads Retry-After on 429 and 503 only, in seconds or as a date", () => {
  const seconds = new Headers({ "retry-after": "120" });
  assert.deepEqual(httpRules(seconds, 429, NOW), [
    { rule: "retry-after", value: "120", notBefore: NOW + 120_000 },
  ]);
  const date = new Headers({ "retry-after": new Date(NOW + 3_600_000).toUTCString() });
  assert.deepEqual(httpRules(date, 503, NOW).map((r) => r.notBefore), [NOW + 3_600_000]);
  assert.deepEqual(httpRules(seconds, 500, NOW), []);
  assert.deepEqual(httpRules(seconds, 200, NOW), []);
  assert.deepEqual(httpRules(new Headers({ "retry-after": "soon" }), 429, NOW), []);
  assert.equal(retryAfterMs("Thu, 01 Jan 1970 00:00:00 GMT", NOW), 0);
});

Deno.test("httpRules() reads Cache-Control max-age (less Age), else Expires against Date", () => {
  assert.deepEqual(
    httpRules(new Headers({ "cache-control": "public, max-age=600", age: "100" }), 200, NOW),
    [{ rule: "max-age", value: "public, max-age=600", notBefore: NOW + 500_000 }],
  );
  // max-age wins over Expires; no-store and no-cache ask for nothing.
  const both = new Headers({
    "cache-control": "max-age=60",
    expires: new Date(NOW + 86_400_000).toUTCString(),
  });
  assert.deepEqual(httpRules(both, 200, NOW).map((r) => r.rule), ["max-age"]);
  assert.deepEqual(
    httpRules(new Headers({ "cache-control": "no-store, max-age=60" }), 200, NOW),
    [],
  );
  // Expires is measured from the server's Date, so a server clock ahead of ours does not matter.
  const served = NOW + 3_600_000;
  const expires = new Headers({
    date: new Date(served).toUTCString(),
    expires: new Date(served + 1_800_000).toUTCString(),
  });
  assert.deepEqual(httpRules(expires, 200, NOW), [
    {
      rule: "expires",
      value: new Date(served + 1_800_000).toUTCString(),
      notBefore: NOW + 1_800_000,
    },
  ]);
  assert.deepEqual(httpRules(new Headers({ expires: "0" }), 200, NOW), []);
  assert.deepEqual(httpRules(new Headers(), 304, NOW), []);
});

Deno.test("ttlRules() reads a ttl in minutes; a bad or zero ttl is nothing", () => {
  assert.deepEqual(ttlRules({ ttl: " 60 " }, NOW), [
    { rule: "ttl", value: "60", notBefore: NOW + 3_600_000 },
  ]);
  for (const ttl of ["0", "-5", "soon", ""]) assert.deepEqual(ttlRules({ ttl }, NOW), [], ttl);
  assert.deepEqual(ttlRules({}, NOW), []);
});

Deno.test("refetchHint() takes the latest rule and moves it out of skipped hours and days", () => {
  const rules = [
    { rule: "ttl" as const, value: "30", notBefore: NOW + 1_800_000 },
    { rule: "max-age" as const, value: "max-age=60", notBefore: NOW + 60_000 },
  ];
  assert.deepEqual(refetchHint("https://x/feed", rules, { now: NOW }), {
    url: "https://x/feed",
    notBefore: NOW + 1_800_000,
    rules,
  });
  // 11:00 is skipped, and so is 12:00: the next fetch is at 13:00.
  const skipped = refetchHint("https://x/feed", rules, {
    now: NOW,
    schedule: { skipHours: [11, 12] },
  });
  const at13 = Date.UTC(2024, 4, 6, 13);
  assert.deepEqual(skipped, {
    url: "https://x/feed",
    notBefore: at13,
    rules: [...rules, { rule: "skip-hours", value: "11,12", notBefore: at13 }],
    skipHours: [11, 12],
  });
  // Skipping Monday with no other rule: Tuesday 00:00 UTC.
  const monday = refetchHint("https://x/feed", [], { now: NOW, schedule: { skipDays: [1] } });
  assert.equal(monday?.notBefore, Date.UTC(2024, 4, 7));
  assert.deepEqual(monday?.skipDays, [1]);
  assert.equal(refetchHint("https://x/feed", [], { now: NOW }), undefined);
});

Deno.test("outsideSkips() leaves a time outside the skips alone and gives up on a full week", () => {
  assert.equal(outsideSkips(NOW, [0, 1], [0]), NOW);
  const all = Array.from({ length: 24 }, (_, h) => h);
  assert.equal(outsideSkips(NOW, all, []), NOW);
  assert.equal(dayNumber(" Saturday "), 6);
  assert.equal(dayNumber("Caturday"), undefined);
});
