import assert from "node:assert/strict";
import type { JobConfig } from "../../src/config/types.ts";
import { DiscoveryError } from "../../src/discovery/base.ts";
import {
  loadStrategies,
  runDiscovery,
  strategyNames,
  strategySchema,
} from "../../src/discovery/mod.ts";
import { testEnv } from "./_server.ts";
import { OPERATING_DEFAULTS } from "../config/_defaults.ts";

function job(strategy: string, options: Record<string, unknown>): JobConfig {
  return { id: "demo", discovery: { strategy, options }, stages: [], ...OPERATING_DEFAULTS };
}

Deno.test("strategyNames() lists the 17 strategies, sorted", () => {
  assert.deepEqual(strategyNames(), [
    "arxiv",
    "command",
    "csv",
    "files",
    "github",
    "hackernews",
    "html_links",
    "job",
    "json_api",
    "jsonl",
    "podcast",
    "reddit",
    "rss",
    "sitemap",
    "sqlite",
    "static",
    "youtube",
  ]);
});

Deno.test("a strategy's schema is there once its module is loaded, not before", async () => {
  // No other test in this file loads the arxiv strategy before this one runs.
  assert.throws(() => strategySchema("arxiv"), /"arxiv" is used before it is loaded/);
  await loadStrategies(["arxiv", "rsss"]);
  assert.doesNotThrow(() => strategySchema("arxiv"));
});

Deno.test("every strategy schema is strict and validates `every` as a duration", async () => {
  await loadStrategies(strategyNames());
  for (const name of strategyNames()) {
    const result = strategySchema(name).safeParse({ bogus_option: 1, every: "soon" });
    assert.equal(result.success, false, name);
    const messages = result.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    assert.ok(messages.includes(': Unrecognized key: "bogus_option"'), `${name}: ${messages}`);
    assert.ok(
      messages.includes('every: expected a duration like "30s", got "soon"'),
      `${name}: ${messages}`,
    );
  }
  assert.throws(() => strategySchema("rsss"), /Unknown discovery strategy "rsss"/);
});

Deno.test("the common options are checked: limit, since, include patterns, timeout, max_bytes", async () => {
  await loadStrategies(["json_api"]);
  const result = strategySchema("json_api").safeParse({
    url: "https://a.test/",
    limit: 0,
    since: "last week",
    include: ["("],
    timeout: "fast",
    max_bytes: "lots",
    headers: { authorization: 5 },
  });
  assert.deepEqual(result.error?.issues.map((i) => [i.path.join("."), i.message]), [
    ["since", 'expected a date like "2024-05-01" or a duration like "7d", got "last week"'],
    ["include.0", 'expected a regular expression, got "("'],
    ["limit", "Too small: expected number to be >0"],
    ["headers.authorization", "Invalid input: expected string, received number"],
    ["timeout", 'expected a duration like "30s", got "fast"'],
    ["max_bytes", 'expected a size like "10MB"'],
  ]);
});

Deno.test("runDiscovery() runs the job's strategy with the job id in its env", async () => {
  await using t = await testEnv();
  const { jobId: _, ...env } = t.env;
  const result = await runDiscovery(
    job("static", { items: [{ key: "a" }, { key: "b" }], limit: 1 }),
    env,
  );
  assert.deepEqual({ ...result, items: [...result.items] }, {
    items: [{ key: "a", data: {} }],
    notModified: false,
    validators: [],
    warnings: [],
    refetch: [],
    failed: [],
  });
});

Deno.test("runDiscovery() turns bad options and unknown strategies into DiscoveryErrors naming the job", async () => {
  await using t = await testEnv();
  const invalid = await runDiscovery(job("static", { items: "nope" }), t.env).catch((e) => e);
  assert.ok(invalid instanceof DiscoveryError);
  assert.equal(
    invalid.message,
    'Cannot discover job "demo": invalid options: items: Invalid input: expected array, received string',
  );
  const unknown = await runDiscovery(job("gopher", {}), t.env).catch((e) => e);
  assert.equal(unknown.message, 'Cannot discover job "demo": unknown strategy "gopher"');
});
