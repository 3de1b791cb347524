import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { ConfigError } from "../../src/util/errors.ts";
import { OPERATING_DEFAULTS } from "./_defaults.ts";

/** A temporary folder holding `files`, removed on dispose. */
async function tempFiles(
  files: Record<string, string>,
): Promise<AsyncDisposable & { dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "jobs_config_" });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** The problems loadConfig reports for `yaml`, with the temporary folder left out of file names. */
async function problemsOf(yaml: string): Promise<string[]> {
  await using tmp = await tempFiles({ "jobs.yaml": yaml });
  try {
    await loadConfig(join(tmp.dir, "jobs.yaml"));
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err.problems.map((line) => line.replace(`${tmp.dir}/`, ""));
  }
  throw new Error("expected the config to be rejected");
}

const STATIC_DISCOVERY = `    discovery:
      strategy: static
      items: [{ key: a }]
`;

Deno.test("loadConfig() reports a YAML syntax error with its position", async () => {
  assert.deepEqual(await problemsOf("jobs:\n  feed:\n    discovery: [static\n"), [
    "jobs.yaml:4:1: invalid YAML: deficient indentation",
  ]);
});

Deno.test("loadConfig() reports a key given twice as a YAML error", async () => {
  assert.deepEqual(
    await problemsOf(
      `jobs:\n  feed:\n${STATIC_DISCOVERY}    handler: ./a.ts\n    handler: ./b.ts\n`,
    ),
    [
      "jobs.yaml:7:5: invalid YAML: duplicated mapping key",
    ],
  );
});

Deno.test("loadConfig() reports an empty file", async () => {
  assert.deepEqual(await problemsOf("# nothing here yet\n"), [
    'jobs.yaml:1:1: the file is empty; expected a mapping with a "jobs" key',
  ]);
});

Deno.test("loadConfig() reports a top level that is not a mapping", async () => {
  assert.deepEqual(await problemsOf("\n- feed\n- news\n"), [
    'jobs.yaml:2:1: expected a mapping with a "jobs" key at the top level, got a list',
  ]);
});

Deno.test("loadConfig() reports a missing required field at its parent", async () => {
  assert.deepEqual(await problemsOf("jobs:\n  feed:\n    handler: ./a.ts\n"), [
    "jobs.yaml:2:3: jobs.feed.discovery: missing required field",
  ]);
  assert.deepEqual(await problemsOf("db: x.sqlite\n"), [
    "jobs.yaml:1:1: jobs: missing required field",
  ]);
});

Deno.test("loadConfig() reports a value of the wrong type", async () => {
  const yaml =
    `jobs:\n  feed:\n    description: 42\n${STATIC_DISCOVERY}    handler:\n      handler: ./a.ts\n      concurrency: four\n`;
  assert.deepEqual(await problemsOf(yaml), [
    "jobs.yaml:3:18: jobs.feed.description: expected a string, got 42",
    'jobs.yaml:9:20: jobs.feed.handler.concurrency: expected a whole number of at least 1, got "four"',
  ]);
});

Deno.test("loadConfig() reports an unknown key at the key, suggesting the near one", async () => {
  const yaml =
    `jobs:\n  feed:\n${STATIC_DISCOVERY}    stages:\n      - handler: ./a.ts\n        concurency: 8\n        colour: red\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:8:9: jobs.feed.stages[0].concurency: unknown key "concurency" (did you mean "concurrency"?)',
    'jobs.yaml:9:9: jobs.feed.stages[0].colour: unknown key "colour"',
  ]);
});

Deno.test("loadConfig() reports a bad duration", async () => {
  const yaml =
    `jobs:\n  feed:\n${STATIC_DISCOVERY}    stages:\n      - handler: ./a.ts\n      - handler: ./b.ts\n        timeout: soon\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:9:18: jobs.feed.stages[1].timeout: expected a duration like "30s", got "soon"',
  ]);
});

Deno.test("loadConfig() reports leases and timeouts too short to work, naming the least", async () => {
  const yaml = `runner:
  lease: 0
  shutdown_grace: 0
defaults:
  timeout: 10ms
  backoff: 0
notify:
  targets: [{ command: ["true"], timeout: 0 }]
jobs:
  feed:
    discovery: { strategy: command, command: ["true"], timeout: 49ms }
    stages:
      - { handler: ./a.ts, timeout: 0 }
      - { handler: ./b.ts, timeout: 50ms }
`;
  assert.deepEqual(await problemsOf(yaml), [
    "jobs.yaml:2:10: runner.lease: expected a duration of at least 300ms, got 0",
    'jobs.yaml:5:12: defaults.timeout: expected a duration of at least 50ms, got "10ms"',
    "jobs.yaml:8:43: notify.targets[0].timeout: expected a duration of at least 50ms, got 0",
    'jobs.yaml:11:65: jobs.feed.discovery.timeout: expected a duration of at least 50ms, got "49ms"',
    "jobs.yaml:13:37: jobs.feed.stages[0].timeout: expected a duration of at least 50ms, got 0",
  ]);
});

Deno.test("loadConfig() takes the shortest lease and timeouts it accepts", async () => {
  const yaml = `runner: { lease: 300ms, shutdown_grace: 0 }
jobs:
  feed:
${STATIC_DISCOVERY}    stages:
      - { command: ["true"], timeout: 50ms, backoff: 0 }
`;
  await using tmp = await tempFiles({ "jobs.yaml": yaml });
  const config = await loadConfig(join(tmp.dir, "jobs.yaml"));
  assert.deepEqual([config.runner.leaseMs, config.runner.shutdownGraceMs], [300, 0]);
  const [stage] = config.jobs[0].stages;
  assert.deepEqual([stage.timeoutMs, stage.backoffMs], [50, 0]);
});

Deno.test("loadConfig() reports a bad rate", async () => {
  const yaml =
    `resources:\n  openai: { rate: 60/fortnight }\njobs:\n  feed:\n${STATIC_DISCOVERY}    handler: ./a.ts\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:2:19: resources.openai.rate: expected a rate like "2/s", got "60/fortnight"',
  ]);
});

Deno.test("loadConfig() reports an unknown discovery strategy with the known ones", async () => {
  const problems = await problemsOf(
    "jobs:\n  feed:\n    discovery: { strategy: carrier_pigeon }\n    handler: ./a.ts\n",
  );
  assert.equal(problems.length, 1);
  assert.match(
    problems[0],
    /^jobs\.yaml:3:28: jobs\.feed\.discovery\.strategy: unknown discovery strategy "carrier_pigeon"; known: .*\bstatic\b/,
  );
});

Deno.test("loadConfig() reports the strategy's own option problems inside discovery", async () => {
  const yaml =
    "jobs:\n  feed:\n    discovery:\n      strategy: static\n      every: hourly\n      item: []\n    handler: ./a.ts\n";
  assert.deepEqual(await problemsOf(yaml), [
    "jobs.yaml:3:5: jobs.feed.discovery.items: missing required field",
    'jobs.yaml:5:14: jobs.feed.discovery.every: expected a duration like "30s", got "hourly"',
    'jobs.yaml:6:7: jobs.feed.discovery.item: unknown key "item" (did you mean "items"?)',
  ]);
});

Deno.test("loadConfig() reports duplicate stage names, given or derived", async () => {
  const yaml =
    `jobs:\n  feed:\n${STATIC_DISCOVERY}    stages:\n      - handler: builtin:fetch\n      - handler: ./steps/fetch.ts\n      - name: fetch\n        command: [python3, f.py]\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:8:9: jobs.feed.stages[1]: duplicate stage name "fetch" (also stages[0]); give one a distinct "name"',
    'jobs.yaml:9:15: jobs.feed.stages[2].name: duplicate stage name "fetch" (also stages[0]); give one a distinct "name"',
  ]);
});

Deno.test("loadConfig() reports a stage using an undeclared resource", async () => {
  const yaml =
    `resources:\n  openai: { concurrency: 2 }\njobs:\n  feed:\n${STATIC_DISCOVERY}    handler:\n      handler: ./a.ts\n      uses: [openai, gpu]\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:10:22: jobs.feed.handler.uses[1]: resource "gpu" is not declared under "resources" (declared: openai)',
  ]);
});

Deno.test("loadConfig() reports an invalid cron expression and one that never fires", async () => {
  const yaml =
    `jobs:\n  feed:\n${STATIC_DISCOVERY}    handler: ./a.ts\n    schedule: "61 * * * *"\n  leap:\n${STATIC_DISCOVERY}    handler: ./a.ts\n    schedule: 0 0 30 2 *\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:7:15: jobs.feed.schedule: invalid cron expression "61 * * * *": invalid value for minute: 61',
    'jobs.yaml:13:15: jobs.leap.schedule: cron expression "0 0 30 2 *" never fires',
  ]);
});

Deno.test("loadConfig() reports an unset environment variable naming it", async () => {
  Deno.env.delete("JOBS_TEST_UNSET_TOKEN");
  const yaml =
    "jobs:\n  feed:\n    discovery:\n      strategy: static\n      items:\n        - url: https://example.com/?t=${JOBS_TEST_UNSET_TOKEN}\n    handler: ./a.ts\n";
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:6:16: jobs.feed.discovery.items[0].url: environment variable "JOBS_TEST_UNSET_TOKEN" is not set',
  ]);
});

Deno.test("loadConfig() reports a job with both handler and stages", async () => {
  const yaml =
    `jobs:\n  feed:\n${STATIC_DISCOVERY}    stages:\n      - handler: ./a.ts\n    handler: ./b.ts\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:8:14: jobs.feed.handler: use either "handler" or "stages", not both',
  ]);
});

Deno.test("loadConfig() reports a job with neither handler nor stages", async () => {
  const yaml = `jobs:\n  feed:\n${STATIC_DISCOVERY}    description: nothing to do\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:2:3: jobs.feed: missing "stages" (a list) or "handler" (a single stage)',
  ]);
});

Deno.test("loadConfig() reports stage handler mistakes: both kinds, neither, options, unknown builtin", async () => {
  const yaml =
    `jobs:\n  feed:\n${STATIC_DISCOVERY}    stages:\n      - handler: ./a.ts\n        command: [./b.sh]\n      - name: nothing\n      - handler: ./c.ts\n        options: { a: 1 }\n      - handler: builtin:transcribe\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:8:9: jobs.feed.stages[0].command: use either "handler" or "command", not both',
    'jobs.yaml:9:9: jobs.feed.stages[1]: missing "handler" (a module or builtin:NAME) or "command" (a list)',
    'jobs.yaml:11:9: jobs.feed.stages[2].options: "options" is only for builtin handlers',
    'jobs.yaml:12:18: jobs.feed.stages[3].handler: unknown builtin handler "transcribe"; known: fetch',
  ]);
});

Deno.test("loadConfig() reads worker: on a command stage, and reports it elsewhere or with a bad max_items", async () => {
  await using tmp = await tempFiles({
    "jobs.yaml":
      `jobs:\n  feed:\n${STATIC_DISCOVERY}    stages:\n      - { name: a, command: [python3, w.py], worker: true }\n      - { name: b, command: [./w.sh], worker: { max_items: 500 } }\n`,
  });
  const config = await loadConfig(join(tmp.dir, "jobs.yaml"));
  assert.deepEqual(config.jobs[0].stages.map((s) => s.handler), [
    { kind: "command", argv: ["python3", "w.py"], worker: {} },
    { kind: "command", argv: [join(tmp.dir, "w.sh")], worker: { maxItems: 500 } },
  ]);
  const yaml =
    `jobs:\n  feed:\n${STATIC_DISCOVERY}    stages:\n      - { handler: ./a.ts, worker: true }\n      - { command: [./b.sh], worker: { max_items: 0 } }\n      - { command: [./c.sh], worker: yes }\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:7:36: jobs.feed.stages[0].worker: "worker" is only for a "command" stage',
    "jobs.yaml:8:51: jobs.feed.stages[1].worker.max_items: expected a whole number of at least 1, got 0",
    'jobs.yaml:9:38: jobs.feed.stages[2].worker: expected true or a mapping such as { max_items: 1000 }, got "yes"',
  ]);
});

Deno.test("loadConfig() reads batch: on a stage, and reports a bad size, wait or a builtin", async () => {
  await using tmp = await tempFiles({
    "jobs.yaml":
      `jobs:\n  feed:\n${STATIC_DISCOVERY}    stages:\n      - { name: a, command: [./w.sh], batch: { size: 50, wait: 2s } }\n      - { name: b, handler: ./b.ts, batch: { size: 1, wait: 0 } }\n`,
  });
  const config = await loadConfig(join(tmp.dir, "jobs.yaml"));
  assert.deepEqual(config.jobs[0].stages.map((s) => s.batch), [
    { size: 50, waitMs: 2000 },
    { size: 1, waitMs: 0 },
  ]);
  const yaml =
    `jobs:\n  feed:\n${STATIC_DISCOVERY}    stages:\n      - { name: a, handler: ./a.ts, batch: { size: 0, wait: 1s } }\n      - { name: b, handler: ./b.ts, batch: { size: 5, wait: -1s } }\n      - { name: c, handler: builtin:fetch, batch: { size: 5, wait: 1s } }\n      - { name: d, handler: ./d.ts, batch: { size: 5, wait: 1s, max: 3 } }\n`;
  assert.deepEqual(await problemsOf(yaml), [
    "jobs.yaml:7:52: jobs.feed.stages[0].batch.size: expected a whole number of at least 1, got 0",
    'jobs.yaml:8:61: jobs.feed.stages[1].batch.wait: expected a duration like "30s", got "-1s"',
    'jobs.yaml:9:44: jobs.feed.stages[2].batch: "batch" is only for module and command handlers',
    'jobs.yaml:10:65: jobs.feed.stages[3].batch.max: unknown key "max"',
  ]);
});

Deno.test("loadConfig() reports a job id that is not lower-case letters, digits, _ and -", async () => {
  const yaml = `jobs:\n  Daily News:\n${STATIC_DISCOVERY}    handler: ./a.ts\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:2:3: jobs["Daily News"]: invalid job id "Daily News": use lower-case letters, digits, "_" and "-"',
  ]);
});

Deno.test("loadConfig() reports the problems of a job whose id is invalid, with the id", async () => {
  Deno.env.delete("JOBS_TEST_UNSET_PATH");
  const yaml = `jobs:
  My Feed:
    discovery:
      strategy: rsss
      url: https://example.com/\${JOBS_TEST_UNSET_PATH}
    stages:
      - handler: builtin:fetc
`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:2:3: jobs["My Feed"]: invalid job id "My Feed": use lower-case letters, digits, "_" and "-"',
    'jobs.yaml:4:17: jobs["My Feed"].discovery.strategy: unknown discovery strategy "rsss" (did you mean "rss"?); known: arxiv, command, csv, files, github, hackernews, html_links, job, json_api, jsonl, podcast, reddit, rss, sitemap, sqlite, static, youtube',
    'jobs.yaml:5:12: jobs["My Feed"].discovery.url: environment variable "JOBS_TEST_UNSET_PATH" is not set',
    'jobs.yaml:7:18: jobs["My Feed"].stages[0].handler: unknown builtin handler "fetc" (did you mean "fetch"?); known: fetch',
  ]);
});

Deno.test("loadConfig() names a misspelt strategy key beside the missing one", async () => {
  const yaml =
    "jobs:\n  feed:\n    discovery:\n      stratgy: rss\n      url: https://example.com/feed\n    handler: ./a.ts\n";
  assert.deepEqual(await problemsOf(yaml), [
    "jobs.yaml:3:5: jobs.feed.discovery.strategy: missing required field",
    'jobs.yaml:4:7: jobs.feed.discovery.stratgy: unknown key "stratgy" (did you mean "strategy"?)',
  ]);
});

Deno.test("loadConfig() reports an empty jobs mapping", async () => {
  assert.deepEqual(await problemsOf("jobs: {}\n"), [
    "jobs.yaml:1:1: jobs: expected at least one job",
  ]);
});

Deno.test("loadConfig() reports a resource with neither concurrency nor rate", async () => {
  const yaml = `resources:\n  gpu: {}\njobs:\n  feed:\n${STATIC_DISCOVERY}    handler: ./a.ts\n`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:2:3: resources.gpu: expected "concurrency", "rate" or both',
  ]);
});

Deno.test("loadConfig() reports every problem of a file at once, in file order", async () => {
  Deno.env.delete("JOBS_TEST_UNSET_KEY");
  const yaml = `runner:
  lease: forever
defaults:
  retries: -1
resources:
  openai: { concurrency: 4, rate: 60/min }
jobs:
  feed:
    discovery:
      strategy: static
      items: [{ key: a }]
    schedule: every day
    budget: { daily_usd: 0 }
    stages:
      - handler: builtin:fetch
        options: { header: "\${JOBS_TEST_UNSET_KEY}" }
      - handler: ./summarise.ts
        uses: [openia]
        version: true
      - handler: ./summarise.ts
  news:
    discovery: { strategy: static, items: [{ key: b }] }
`;
  assert.deepEqual(await problemsOf(yaml), [
    'jobs.yaml:2:10: runner.lease: expected a duration like "30s", got "forever"',
    "jobs.yaml:4:12: defaults.retries: expected a whole number of at least 0, got -1",
    `jobs.yaml:12:15: jobs.feed.schedule: invalid cron expression "every day": invalid configuration format ('every day'), exactly five, six, or seven space separated parts are required`,
    "jobs.yaml:13:26: jobs.feed.budget.daily_usd: expected a number greater than 0, got 0",
    'jobs.yaml:16:28: jobs.feed.stages[0].options.header: environment variable "JOBS_TEST_UNSET_KEY" is not set',
    'jobs.yaml:18:16: jobs.feed.stages[1].uses[0]: resource "openia" is not declared under "resources" (declared: openai)',
    "jobs.yaml:19:18: jobs.feed.stages[1].version: expected a string or a number, got true",
    'jobs.yaml:20:9: jobs.feed.stages[2]: duplicate stage name "summarise" (also stages[1]); give one a distinct "name"',
    'jobs.yaml:21:3: jobs.news: missing "stages" (a list) or "handler" (a single stage)',
  ]);
});

Deno.test("loadConfig() reports a missing file without a position", async () => {
  await using tmp = await tempFiles({});
  const path = join(tmp.dir, "jobs.yaml");
  await assert.rejects(loadConfig(path), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems, [
      `${path}: cannot read the config: file not found (choose another with --config FILE or $JOBS_CONFIG)`,
    ]);
    return true;
  });
});

Deno.test("loadConfig() substitutes ${VAR} in string values and keeps $${ literal", async () => {
  Deno.env.set("JOBS_TEST_FEED_HOST", "feeds.example.com");
  try {
    await using tmp = await tempFiles({
      "jobs.yaml": `jobs:
  feed:
    discovery:
      strategy: static
      items:
        - url: https://\${JOBS_TEST_FEED_HOST}/a?x=$\${JOBS_TEST_FEED_HOST}
    handler: ./a.ts
`,
    });
    const config = await loadConfig(join(tmp.dir, "jobs.yaml"));
    assert.deepEqual(config.jobs[0].discovery.options, {
      items: [{ url: "https://feeds.example.com/a?x=${JOBS_TEST_FEED_HOST}" }],
    });
  } finally {
    Deno.env.delete("JOBS_TEST_FEED_HOST");
  }
});

Deno.test("loadConfig() normalises a valid file: defaults applied, paths resolved", async () => {
  await using tmp = await tempFiles({
    "jobs.yaml": `db: data/jobs.sqlite
runner: { lease: 2m }
defaults:
  concurrency: 2
  timeout: 90s
  retries: 5
  domain_rate: 2/s
resources:
  openai: { concurrency: 4, rate: 60/min }
  whisper: { rate: 100/d }
jobs:
  feed:
    description: Summaries of a feed
    discovery:
      strategy: static
      every: 1h
      items:
        - { key: a, title: First }
    schedule: "*/15 * * * *"
    budget: { daily_usd: 5 }
    pause_after_failures: 10
    stages:
      - handler: builtin:fetch
        options: { max_bytes: 1000 }
        concurrency: 8
        domain_rate: 1/s
      - name: summarise
        handler: ./handlers/summarise.ts
        uses: [openai]
        version: 2
        backoff: 500ms
      - command: [./bin/store.sh, --fast]
        retries: 0
        timeout: 50ms
      - command: [python3, notify.py]
        version: v1
  single:
    discovery: { strategy: static, items: [{ key: x }] }
    handler:
      command: [node, transcribe.js]
      uses: [whisper]
  one:
    discovery: { strategy: static, items: [{ key: y }] }
    handler: /opt/handlers/tag.js
`,
  });
  const dir = tmp.dir;
  const stageDefaults = { concurrency: 2, timeoutMs: 90_000, retries: 5, backoffMs: 30_000 };
  const domainRate = { count: 2, perMs: 1000 };
  const expected: Config = {
    file: join(dir, "jobs.yaml"),
    dir,
    db: join(dir, "data/jobs.sqlite"),
    runner: { leaseMs: 120_000, shutdownGraceMs: 30_000 },
    retention: OPERATING_DEFAULTS.retention,
    notify: OPERATING_DEFAULTS.notify,
    resources: {
      openai: { name: "openai", concurrency: 4, rate: { count: 60, perMs: 60_000 } },
      whisper: { name: "whisper", rate: { count: 100, perMs: 86_400_000 } },
    },
    jobs: [
      {
        id: "feed",
        ...OPERATING_DEFAULTS,
        description: "Summaries of a feed",
        discovery: {
          strategy: "static",
          everyMs: 3_600_000,
          options: { items: [{ key: "a", title: "First" }] },
        },
        schedule: "*/15 * * * *",
        budget: { dailyUsd: 5 },
        pauseAfterFailures: 10,
        stages: [
          {
            ...stageDefaults,
            name: "fetch",
            handler: { kind: "builtin", name: "fetch", options: { max_bytes: 1000 } },
            concurrency: 8,
            uses: [],
            domainRate: { count: 1, perMs: 1000 },
          },
          {
            ...stageDefaults,
            name: "summarise",
            handler: { kind: "module", path: join(dir, "handlers/summarise.ts") },
            backoffMs: 500,
            uses: ["openai"],
            version: "2",
            domainRate,
          },
          {
            ...stageDefaults,
            name: "store.sh",
            handler: { kind: "command", argv: [join(dir, "bin/store.sh"), "--fast"] },
            retries: 0,
            timeoutMs: 50,
            uses: [],
            domainRate,
          },
          {
            ...stageDefaults,
            name: "python3",
            handler: { kind: "command", argv: ["python3", "notify.py"] },
            uses: [],
            version: "v1",
            domainRate,
          },
        ],
      },
      {
        id: "single",
        ...OPERATING_DEFAULTS,
        discovery: { strategy: "static", options: { items: [{ key: "x" }] } },
        stages: [{
          ...stageDefaults,
          name: "node",
          handler: { kind: "command", argv: ["node", "transcribe.js"] },
          uses: ["whisper"],
          domainRate,
        }],
      },
      {
        id: "one",
        ...OPERATING_DEFAULTS,
        discovery: { strategy: "static", options: { items: [{ key: "y" }] } },
        stages: [{
          ...stageDefaults,
          name: "tag",
          handler: { kind: "module", path: "/opt/handlers/tag.js" },
          uses: [],
          domainRate,
        }],
      },
    ],
  };
  assert.deepEqual(await loadConfig(join(dir, "jobs.yaml")), expected);
});

Deno.test("loadConfig() applies built-in defaults and keeps a postgres URL as is", async () => {
  await using tmp = await tempFiles({
    "jobs.yaml": `db: postgres://jobs@db.internal/jobs
jobs:
  feed:
    discovery: { strategy: static, items: [{ key: a }] }
    handler: builtin:fetch
`,
  });
  const config = await loadConfig(join(tmp.dir, "jobs.yaml"));
  assert.equal(config.db, "postgres://jobs@db.internal/jobs");
  assert.deepEqual(config.runner, { leaseMs: 300_000, shutdownGraceMs: 30_000 });
  assert.deepEqual(config.resources, {});
  assert.deepEqual(config.jobs[0].stages, [{
    name: "fetch",
    handler: { kind: "builtin", name: "fetch", options: {} },
    concurrency: 4,
    timeoutMs: 300_000,
    retries: 3,
    backoffMs: 30_000,
    uses: [],
  }]);
});

Deno.test("loadConfig() puts jobs.sqlite beside jobs.yaml by default", async () => {
  await using tmp = await tempFiles({
    "jobs.yaml":
      "jobs:\n  feed:\n    discovery: { strategy: static, items: [{ key: a }] }\n    handler: ./a.ts\n",
  });
  const config = await loadConfig(join(tmp.dir, "jobs.yaml"));
  assert.equal(config.db, join(tmp.dir, "jobs.sqlite"));
});

Deno.test("loadConfig() with handlers checks modules and programs beside the schema problems", async () => {
  await using tmp = await tempFiles({
    "jobs.yaml": `jobs:
  Feed:
    discovery: { strategy: rsss }
    stages:
      - handler: ./missing.ts
        timeout: soon
      - command: [no-such-program-jobctl]
  ok:
    discovery: { strategy: static, items: [{ key: a }] }
    handler: ./present.ts
`,
    "present.ts": "export default () => null;\n",
  });
  const path = join(tmp.dir, "jobs.yaml");
  const cwd = Deno.cwd();
  Deno.chdir(tmp.dir);
  try {
    await assert.rejects(loadConfig(path, { handlers: { timeoutMs: 30_000 } }), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((line) => line.replace(`${tmp.dir}/`, "")), [
        'jobs.yaml:2:3: jobs.Feed: invalid job id "Feed": use lower-case letters, digits, "_" and "-"',
        `jobs.yaml:3:28: jobs.Feed.discovery.strategy: unknown discovery strategy "rsss" (did you mean "rss"?); known: arxiv, command, csv, files, github, hackernews, html_links, job, json_api, jsonl, podcast, reddit, rss, sitemap, sqlite, static, youtube`,
        'jobs.yaml:5:18: jobs.Feed.stages[0].handler: module "missing.ts" does not exist',
        'jobs.yaml:6:18: jobs.Feed.stages[0].timeout: expected a duration like "30s", got "soon"',
        'jobs.yaml:7:19: jobs.Feed.stages[1].command[0]: program "no-such-program-jobctl" is not on PATH',
      ]);
      return true;
    });
  } finally {
    Deno.chdir(cwd);
  }
});
