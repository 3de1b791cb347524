import assert from "node:assert/strict";
import { describeValue, printable, quote } from "../../src/util/quote.ts";

Deno.test("quote() escapes quotes, backslashes and invisible characters", () => {
  assert.equal(quote('say "hi"\\'), '"say \\"hi\\"\\\\"');
  assert.equal(quote("a\nb\tc\r"), '"a\\nb\\tc\\r"');
  assert.equal(quote("\u0000\u001b[2J\u007f\u0085"), '"\\u0000\\u001b[2J\\u007f\\u0085"');
  assert.equal(quote("evil\u202egnp.exe"), '"evil\\u202egnp.exe"');
  assert.equal(quote("lone \ud800 surrogate"), '"lone \\ud800 surrogate"');
  assert.equal(quote("emoji 😀 and é stay"), '"emoji 😀 and é stay"');
});

Deno.test("quote() cuts long text to 80 characters and names its length", () => {
  assert.equal(quote("a".repeat(80)), `"${"a".repeat(80)}"`);
  assert.equal(quote("a".repeat(300_000)), `"${"a".repeat(80)}…" (300000 characters)`);
  // Escapes count: binary garbage cannot grow past the limit either.
  const garbage = quote("\u0001".repeat(4096));
  assert.equal(garbage, `"${"\\u0001".repeat(13)}…" (4096 characters)`);
  assert.equal(quote("abcdef", { max: 3 }), '"abc…" (6 characters)');
});

Deno.test("describeValue() quotes strings and names other values", () => {
  assert.deepEqual(
    [describeValue("x".repeat(100)), describeValue(4), describeValue(null), describeValue([1])],
    [`"${"x".repeat(80)}…" (100 characters)`, "4", "null", "a list"],
  );
  assert.equal(describeValue({ a: 1 }), "a mapping");
});

Deno.test("printable() escapes control characters and keeps the rest", () => {
  assert.equal(
    printable("Unexpected token '\u0001', \"\u001b[31m\""),
    "Unexpected token '\\u0001', \"\\u001b[31m\"",
  );
  assert.equal(printable("plain text"), "plain text");
});
