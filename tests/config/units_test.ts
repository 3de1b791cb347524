import assert from "node:assert/strict";
import { formatDuration, parseDuration, parseRate } from "../../src/util/units.ts";

Deno.test("parseDuration() converts every unit to milliseconds", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("1d"), 86_400_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
});

Deno.test("parseDuration() accepts zero without a unit", () => {
  assert.equal(parseDuration(0), 0);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("0s"), 0);
});

Deno.test("parseDuration() rejects numbers without a unit, words and negative values", () => {
  const cases: [string | number, string][] = [
    ["soon", '"soon"'],
    ["30", '"30"'],
    [30, "30"],
    ["-5s", '"-5s"'],
    ["5 minutes", '"5 minutes"'],
    ["5M", '"5M"'],
    ["", '""'],
  ];
  for (const [input, shown] of cases) {
    assert.throws(() => parseDuration(input), {
      message: `expected a duration like "30s", got ${shown}`,
    });
  }
});

Deno.test("parseRate() reads a count per second, minute, hour or day", () => {
  assert.deepEqual(parseRate("2/s"), { count: 2, perMs: 1_000 });
  assert.deepEqual(parseRate("60/min"), { count: 60, perMs: 60_000 });
  assert.deepEqual(parseRate("5/m"), { count: 5, perMs: 60_000 });
  assert.deepEqual(parseRate("1000/h"), { count: 1000, perMs: 3_600_000 });
  assert.deepEqual(parseRate("100/d"), { count: 100, perMs: 86_400_000 });
});

Deno.test("parseRate() rejects zero, fractions, unknown units and words", () => {
  for (const input of ["0/s", "1.5/s", "2/week", "2 per second", "2", "fast", "/s"]) {
    assert.throws(() => parseRate(input), {
      message: `expected a rate like "2/s", got ${JSON.stringify(input)}`,
    });
  }
});

Deno.test("formatDuration() prints the largest exact unit", () => {
  assert.equal(formatDuration(3_600_000), "1h");
  assert.equal(formatDuration(5_400_000), "90m");
  assert.equal(formatDuration(86_400_000 * 2), "2d");
  assert.equal(formatDuration(30_000), "30s");
  assert.equal(formatDuration(1_500), "1500ms");
  assert.equal(formatDuration(0), "0");
});
