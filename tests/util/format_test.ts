import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { count, errorGist, eventMessage, itemError, plural, usd } from "../../src/util/format.ts";

Deno.test("usd() rounds float noise away and keeps tiny amounts readable", () => {
  const amounts = [0, 2, 2.25, 0.125, 0.024999999999999998, 0.1 + 0.2, 0.0004, 0.00004213, 1234.5];
  assertEquals(amounts.map(usd), [
    "$0.00",
    "$2.00",
    "$2.25",
    "$0.125",
    "$0.025",
    "$0.30",
    "$0.0004",
    "$0.000042",
    "$1,234.50",
  ]);
});

Deno.test("count() and plural() write counts with separators and the word in the right number", () => {
  assertEquals(count(1234567), "1,234,567");
  assertEquals(
    [plural(0, "item"), plural(1, "item"), plural(2, "attempt"), plural(1500, "stage row")],
    ["0 items", "1 item", "2 attempts", "1,500 stage rows"],
  );
  assertEquals(plural(2, "body", "bodies"), "2 bodies");
});

Deno.test("eventMessage() writes a cost event's amount with usd(), other messages as stored", () => {
  assertEquals(
    eventMessage({ kind: "cost", message: "$0.024999999999999998", costUsd: 0.024999999999999998 }),
    "$0.025",
  );
  assertEquals(eventMessage({ kind: "failed", message: "HTTP 500", costUsd: null }), "HTTP 500");
});

const TRACEBACK = `Command "python3" exited with code 1; stderr: Traceback (most recent call last):
  File "/srv/handlers/tag.py", line 41, in <module>
    main(json.load(sys.stdin))
  File "/srv/handlers/tag.py", line 12, in main
    raise ValueError(f"no title in {item['key']}")
ValueError: no title in post-17`;

Deno.test("errorGist() keeps the start and the last line of a long message, where the reason is", () => {
  assertEquals(errorGist("Cannot parse JSON\n  at line 3", 60), "Cannot parse JSON at line 3");
  const gist = errorGist(TRACEBACK, 60);
  assertEquals(gist, 'Command "python3" exited… ValueError: no title in post-17');
  assertEquals(gist.length <= 60, true);
});

Deno.test("errorGist() keeps the end of one long line, or of a last line that fills the width", () => {
  const url = `HTTP 404 from https://example.org/${"a".repeat(80)}/feed.xml: not found`;
  assertEquals(errorGist(url, 30), "…aaaaaaaaa/feed.xml: not found");
  const lastLong = `Failed\n${"x".repeat(50)} reason`;
  assertEquals(errorGist(lastLong, 40), `…${"x".repeat(32)} reason`);
});

Deno.test("itemError() shows the failed stage's error, else the one a stage kept", () => {
  const stages = [
    { status: "done", error: "timeout after 30s" },
    { status: "failed", error: "Cannot parse JSON at line 3" },
  ];
  assertEquals(itemError(stages), "Cannot parse JSON at line 3");
  assertEquals(itemError(stages.slice(0, 1)), "timeout after 30s");
  assertEquals(itemError([{ status: "pending", error: null }]), undefined);
});
