import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/util/errors.ts";

const JOB = `    discovery: { strategy: static, items: [{ key: a }] }
    handler: builtin:fetch
`;

async function load(yaml: string) {
  const dir = await Deno.makeTempDir({ prefix: "jobs_config_ops_" });
  try {
    await Deno.writeTextFile(join(dir, "jobs.yaml"), yaml);
    return { dir, config: await loadConfig(join(dir, "jobs.yaml")) };
  } catch (err) {
    if (err instanceof ConfigError) {
      return { dir, problems: err.problems.map((p) => p.slice(p.indexOf("jobs.yaml:"))) };
    }
    throw err;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("retention, notify and ping: defaults, a job's settings over the top level", async () => {
  const { config, dir } = await load(`retention: { events: 30d, http_cache: 7d }
notify:
  cooldown: 2h
  targets:
    - { webhook: "https://hooks.example.com/T1/x?secret=1", headers: { X-Key: k }, events: [failed] }
    - { command: [./page.sh, --now], timeout: 1s }
runner: { ping: "https://hc-ping.example.com/abc/" }
jobs:
  a:
${JOB}    retention: { results: 2d }
    expect_new_within: 2d
    ping: { url: "https://kuma.example.com/up", fail_url: "https://kuma.example.com/down" }
  b:
${JOB}    notify: { targets: [], discovery_failures: 5 }
`);
  assert.ok(config);
  const day = 86_400_000;
  assert.deepEqual(config.retention, {
    eventsMs: 30 * day,
    resultsMs: 30 * day,
    httpCacheMs: 7 * day,
  });
  assert.deepEqual(config.runner.ping, {
    url: "https://hc-ping.example.com/abc/",
    failUrl: "https://hc-ping.example.com/abc/fail",
  });
  const [hook, page] = config.notify.targets;
  assert.deepEqual(
    [hook.kind, hook.label, hook.events, hook.timeoutMs, hook.id.startsWith("webhook:")],
    ["webhook", "webhook https://hooks.example.com", ["failed"], 5000, true],
  );
  assert.ok(!hook.id.includes("secret"), "a target's id reveals nothing of its URL");
  assert.deepEqual(
    page.kind === "command" && [page.argv, page.cwd, page.timeoutMs, page.events.length],
    [
      [join(dir, "page.sh"), "--now"],
      dir,
      1000,
      6,
    ],
  );
  const [a, b] = config.jobs;
  assert.deepEqual(a.retention, { eventsMs: 30 * day, resultsMs: 2 * day, httpCacheMs: 7 * day });
  assert.deepEqual([a.notify.targets.length, a.notify.cooldownMs, a.notify.discoveryFailures], [
    2,
    7_200_000,
    3,
  ]);
  assert.equal(a.expectNewWithinMs, 2 * day);
  assert.deepEqual(a.ping, {
    url: "https://kuma.example.com/up",
    failUrl: "https://kuma.example.com/down",
  });
  assert.deepEqual([b.notify.targets, b.notify.cooldownMs, b.notify.discoveryFailures], [
    [],
    7_200_000,
    5,
  ]);
  assert.equal(b.ping, undefined);
});

Deno.test("bad operating settings are reported at their place", async () => {
  const { problems } = await load(`notify:
  targets:
    - { webhook: "ftp://x" }
    - { email: ops@example.com }
    - { webhook: "https://x.example", events: [failed, exploded] }
jobs:
  a:
${JOB}    retention: { http_cache: 1d, evnts: 3d }
    ping: 42
`);
  assert.deepEqual(problems, [
    "jobs.yaml:3:18: notify.targets[0].webhook: expected an http(s) URL",
    'jobs.yaml:4:7: notify.targets[1]: expected a target with "webhook: URL" or "command: [program, args…]"',
    'jobs.yaml:5:56: notify.targets[2].events[1]: expected "failed" or "paused" or "budget" or ' +
    '"discovery_failing" or "silent" or "crashed", got "exploded"',
    'jobs.yaml:10:18: jobs.a.retention.http_cache: unknown key "http_cache"',
    'jobs.yaml:10:34: jobs.a.retention.evnts: unknown key "evnts" (did you mean "events"?)',
    'jobs.yaml:11:11: jobs.a.ping: expected a URL or a mapping with "url" and "fail_url"',
  ]);
});
