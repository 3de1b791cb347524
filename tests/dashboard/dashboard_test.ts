/**
 * `jobctl dashboard` end to end: the real program as a child process on a seeded database, driven
 * by a real headless Chromium, its numbers checked against `jobctl status --json`.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { JobStatus, StatusReport } from "../../src/status/report.ts";

import { openDb } from "../../src/db/mod.ts";
import { Browser, type Page } from "./_cdp.ts";
import { startDashboard } from "./_server.ts";
import { count, usd } from "../../src/util/format.ts";
import { HOSTILE_KEY, JOBS_YAML, LONG_TOKEN, NOTE_KEYS, PATH_KEY, seed } from "./_seed.ts";
import { testStore } from "../_test_store.ts";
import { outputWithin } from "../_deadline.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));
const SCREENSHOT = fileURLToPath(new URL("../../test-results/dashboard.png", import.meta.url));
const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
];
/** A temporary folder with jobs.yaml and a seeded database. */
interface Workspace extends AsyncDisposable {
  dir: string;
  db: string;
  config: string;
}

async function workspace(): Promise<Workspace> {
  const dir = await Deno.makeTempDir({ prefix: "jobs-dashboard-" });
  const config = `${dir}/jobs.yaml`;
  const store = await testStore(dir);
  await Deno.writeTextFile(config, JOBS_YAML);
  await seed(store.location, Date.now());
  return {
    dir,
    db: store.location,
    config,
    async [Symbol.asyncDispose]() {
      await store.drop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function jobsCommand(ws: Workspace, args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", DENO_JSON, ...PERMISSIONS, MAIN, ...args, "--config", ws.config],
    env: { NO_COLOR: "1", JOBS_DB: ws.db },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs a `jobctl` command to its end, within the deadline of a test's process. */
async function output(command: Deno.Command) {
  const child = command.spawn();
  const { code, stdout, stderr } = await outputWithin(child, `jobctl (pid ${child.pid})`);
  const encoder = new TextEncoder();
  return { code, stdout: encoder.encode(stdout), stderr: encoder.encode(stderr) };
}

async function statusJson(ws: Workspace): Promise<StatusReport> {
  const { code, stdout, stderr } = await output(jobsCommand(ws, ["status", "--json"]));
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** Every figure the page shows with its job and its path in that job's status report. */
async function shownFigures(page: Page): Promise<[string, string, string][]> {
  return await page.evaluate<[string, string, string][]>(
    `[...document.querySelectorAll("[data-field]")].map((el) =>
      [el.dataset.job, el.dataset.field, el.textContent])`,
  );
}

/** The value at `field` ("items.pending", "stages.fetch.done", "cost.todayUsd") of a job. */
function reported(report: StatusReport, jobId: string, field: string): number {
  const job = report.jobs.find((j) => j.jobId === jobId);
  assert.ok(job, `no job "${jobId}" in jobctl status --json`);
  const path = field.split(".");
  if (path[0] === "stages") {
    const stage = job.stages.find((s) => s.stage === path.slice(1, -1).join("."));
    assert.ok(stage, `no stage in "${field}"`);
    return stage[path.at(-1) as keyof typeof stage] as number;
  }
  return path.reduce<unknown>(
    (value, key) => (value as Record<string, unknown>)[key],
    job as JobStatus,
  ) as number;
}

/**
 * Checks every figure of the page against the report, written as the commands write it (money by
 * usd(), counts by count()); returns how many were compared.
 */
async function assertFiguresMatch(page: Page, report: StatusReport): Promise<number> {
  const { shown, expected } = await figuresAndReport(page, report);
  assert.deepEqual(shown, expected);
  return shown.length;
}

/** The figures the page shows, and what `report` says each should be. */
async function figuresAndReport(page: Page, report: StatusReport) {
  const shown = await shownFigures(page);
  const expected = shown.map(([job, field]): [string, string, string] => {
    const value = reported(report, job, field);
    return [job, field, field.startsWith("cost.") ? usd(value) : count(value)];
  });
  return { shown, expected };
}

/** The text of the figure `field` of `job` on the page. */
function figure(page: Page, job: string, field: string): Promise<string> {
  return page.text(`[data-job="${job}"][data-field="${field}"]`);
}

/** Marks the first table row containing `text` and returns a selector for it. */
async function rowWith(page: Page, text: string): Promise<string> {
  await page.evaluate(`(() => {
    for (const el of document.querySelectorAll("[data-test-row]")) el.removeAttribute("data-test-row");
    const row = [...document.querySelectorAll("tbody tr")]
      .find((r) => r.textContent.includes(${JSON.stringify(text)}));
    if (!row) throw new Error("No row contains " + ${JSON.stringify(text)});
    row.setAttribute("data-test-row", "");
  })()`);
  return "tr[data-test-row]";
}

async function jobState(ws: Workspace, jobId: string) {
  const db = await openDb(ws.db);
  try {
    return await db.getJobState(jobId);
  } finally {
    await db.close();
  }
}

async function failedAt(ws: Workspace, stage: string): Promise<number> {
  const db = await openDb(ws.db);
  try {
    return (await db.stageStats("feed")).find((s) => s.stage === stage)!.failed;
  } finally {
    await db.close();
  }
}

const FEED = "/jobs/feed";

/** The keys of the items an items listing shows. */
function listedKeys(page: Page): Promise<string[]> {
  return page.evaluate(
    `[...document.querySelectorAll("tr[data-item]")].map((r) => r.dataset.item)`,
  );
}

/** The kinds in the "Recent events" table. */
function eventKinds(page: Page): Promise<string[]> {
  return page.evaluate(
    `[...document.querySelectorAll("#events tbody .badge")].map((b) => b.textContent)`,
  );
}

function squash(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

Deno.test("dashboard pages in Chromium show jobctl status --json numbers; buttons act on the database", async (t) => {
  await using ws = await workspace();
  await using server = await startDashboard(ws.dir, ["--db", ws.db]);
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  await using browser = await Browser.launch();
  // A second window stays on the job page from the start, to see it refresh itself.
  const watcher = await browser.newPage();
  await watcher.goto(`${server.url}jobs/feed`);
  assert.equal(await figure(watcher, "feed", "stages.parse.failed"), "2");
  const page = await browser.newPage();

  await t.step(
    "the overview shows every job's figures exactly as jobctl status --json",
    async () => {
      assert.equal(await page.goto(server.url), 200);
      const report = await statusJson(ws);
      assert.deepEqual(report.jobs.map((j) => j.jobId), ["feed", "notes"]);
      // Per job: 5 item counts, runs last hour, stale, cost today; then 6 counts per stage.
      assert.equal(await assertFiguresMatch(page, report), (8 + 3 * 6) + (8 + 1 * 6));
      assert.equal(await figure(page, "feed", "items.failed"), "6");
      // $0.25 + $0.50 + $0.024999999999999998, rounded.
      assert.equal(await figure(page, "feed", "cost.todayUsd"), "$0.775");
    },
  );

  await t.step(
    "a job page shows the same numbers plus stale and last-hour counts per stage",
    async () => {
      assert.equal(await page.clickAndWait(`a[href="${FEED}"]`), 200);
      assert.equal((await page.url()).pathname, FEED);
      const report = await statusJson(ws);
      assert.equal(await assertFiguresMatch(page, report), 8 + 3 * 8);
      // Items that failed at fetch (4) and at parse (2) wait at the later stages: blocked.
      assert.deepEqual(
        await Promise.all(
          ["fetch", "parse", "store"].map((s) => figure(page, "feed", `stages.${s}.blocked`)),
        ),
        ["0", "4", "6"],
      );
      assert.equal(await figure(page, "feed", "stages.fetch.finishedLastHour"), "22");
      assert.equal(await page.evaluate("document.querySelectorAll('svg.chart').length"), 2);
      await Deno.mkdir(new URL("../../test-results/", import.meta.url), { recursive: true });
      await page.screenshot(SCREENSHOT);
      const png = await Deno.readFile(SCREENSHOT);
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    },
  );

  await t.step("failures are grouped by error with links to example items", async () => {
    const row = await rowWith(page, "HTTP <n> from <url>");
    assert.equal(await page.text(`${row} td:nth-child(3)`), "2");
    assert.deepEqual(
      await page.evaluate(`[...document.querySelectorAll('${row} a')].map((a) => a.textContent)`),
      ["k01", "k02"],
    );
    assert.equal(await page.clickAndWait(`${row} a`), 200);
    assert.equal((await page.url()).pathname, `${FEED}/items/k01`);
    assert.equal(await page.text("td.error"), "HTTP 500 from https://example.org/k01");
  });

  await t.step("a click on a stage's failed count lists exactly those items", async () => {
    await page.goto(server.url + FEED.slice(1));
    const link = `a[href="${FEED}/items?status=failed&stage=fetch"]`;
    assert.equal(await page.text(link), "4");
    assert.equal(await page.clickAndWait(link), 200);
    const url = await page.url();
    assert.deepEqual([url.pathname, url.search], [`${FEED}/items`, "?status=failed&stage=fetch"]);
    assert.equal(await page.text("h1"), "feed: failed at fetch");
    assert.deepEqual(await listedKeys(page), ["k01", "k02", "k03", HOSTILE_KEY]);
    assert.equal(await page.text("nav.pager"), "4 items");
  });

  await t.step("the listing shows 50 items a page, with next and previous pages", async () => {
    await page.goto(server.url);
    await page.clickAndWait('[data-job-card="notes"] a[href="/jobs/notes/items?status=pending"]');
    assert.equal(await page.text("h1"), "notes: pending items");
    assert.deepEqual(await listedKeys(page), NOTE_KEYS.slice(2, 52));
    assert.equal(await page.clickAndWait('a[rel="next"]'), 200);
    // The next page starts after the last item shown: its id is in the address.
    assert.match((await page.url()).search, /^\?status=pending&after=\d+$/);
    assert.deepEqual(await listedKeys(page), NOTE_KEYS.slice(52));
    assert.equal(await page.text("nav.pager").then(squash), "8 items · ← Previous");
    await page.clickAndWait('a[rel="prev"]');
    assert.match((await page.url()).search, /^\?status=pending&before=\d+$/);
    assert.deepEqual(await listedKeys(page), NOTE_KEYS.slice(2, 52));
    assert.equal(await page.text("nav.pager").then(squash), "50 items · Next →");
  });

  await t.step(
    "recent events show failures first; choosing a kind shows those events",
    async () => {
      await page.goto(server.url + FEED.slice(1));
      assert.deepEqual(await eventKinds(page), Array(6).fill("failed"));
      assert.equal(await page.navigation(() => page.press('select[name="events"]', "cost")), 200);
      assert.equal((await page.url()).search, "?events=cost");
      assert.deepEqual(await eventKinds(page), Array(4).fill("cost"));
      const row = await rowWith(page, "$0.025");
      assert.equal(await page.text(`${row} td.num`), "$0.025");
    },
  );

  await t.step("item keys and errors are shown as text, never run as markup", async () => {
    assert.equal(
      await page.goto(`${server.url}jobs/feed/items/${encodeURIComponent(HOSTILE_KEY)}`),
      200,
    );
    assert.equal(await page.text("h1"), HOSTILE_KEY);
    assert.equal(await page.evaluate("document.querySelectorAll('main img').length"), 0);
    assert.equal(await page.evaluate("document.title"), `jobs · feed · ${HOSTILE_KEY}`);
    assert.equal(
      await page.goto(`${server.url}jobs/feed/items/${encodeURIComponent(PATH_KEY)}`),
      200,
    );
    assert.equal(await page.text("h1"), PATH_KEY);
  });

  await t.step("Pause pauses the job in the database with the reason typed in", async () => {
    await page.goto(server.url + FEED.slice(1));
    await page.type('input[name="reason"]', "provider outage");
    assert.equal(await page.clickAndWait(`form[action="${FEED}/pause"] button`), 200);
    assert.equal(
      await page.text(".notice"),
      "Paused: no stage of this job is claimed until it is unpaused.",
    );
    const state = await jobState(ws, "feed");
    assert.equal(state.paused, true);
    assert.equal(state.pauseReason, "provider outage");
    assert.equal(await page.text(".badge.paused"), "paused");
    assert.equal((await statusJson(ws)).jobs[0].paused, true);
  });

  await t.step("Unpause and Discover now change the job state", async () => {
    await page.clickAndWait(`form[action="${FEED}/unpause"] button`);
    assert.equal((await jobState(ws, "feed")).paused, false);
    assert.equal(
      await page.evaluate(`document.querySelectorAll('form[action="${FEED}/pause"]').length`),
      1,
    );
    await page.clickAndWait(`form[action="${FEED}/wake"] button`);
    assert.equal(await page.text(".notice"), "Woken: the next run discovers at once.");
    assert.notEqual((await jobState(ws, "feed")).wakeRequestedAt, null);
  });

  await t.step(
    "Retry on an error cluster asks first, then puts exactly its failed stages back",
    async () => {
      assert.equal(await failedAt(ws, "fetch"), 4);
      const row = await rowWith(page, "Timed out after <n> ms");
      assert.equal(await page.clickAndWait(`${row} button`), 200);
      assert.deepEqual(page.dialogs, [
        'Put the failed rows of stage "fetch" whose error contains "Timed out after" back to pending?',
      ]);
      assert.equal(await page.text(".notice"), "1 failed stage put back to pending.");
      assert.equal(await failedAt(ws, "fetch"), 3);
      const db = await openDb(ws.db);
      try {
        const k03 = await db.getItemDetail({ jobId: "feed", key: "k03" });
        assert.deepEqual(
          k03?.stages.map((s) => [s.stage, s.status, s.attempts]),
          [["fetch", "pending", 0], ["parse", "pending", 0], ["store", "pending", 0]],
        );
      } finally {
        await db.close();
      }
    },
  );

  await t.step("Retry on a stage puts all of its failed rows back to pending", async () => {
    assert.equal(await failedAt(ws, "parse"), 2);
    const row = await rowWith(page, "Retry 2 failed");
    await page.clickAndWait(`${row} button`);
    assert.equal(await page.text(".notice"), "2 failed stages put back to pending.");
    assert.equal(await failedAt(ws, "parse"), 0);
    assert.equal(await failedAt(ws, "fetch"), 3);
  });

  await t.step(
    "Retry on an item page puts that item's failed stage back and returns there",
    async () => {
      assert.equal(await failedAt(ws, "fetch"), 3);
      const path = `${FEED}/items/${encodeURIComponent(HOSTILE_KEY)}`;
      await page.goto(server.url + path.slice(1));
      assert.equal(await page.clickAndWait(`form[action="${FEED}/retry"] button`), 200);
      assert.equal((await page.url()).pathname, path);
      assert.equal(await page.text(".notice"), "1 failed stage put back to pending.");
      assert.equal(await page.text("td .badge"), "pending");
      assert.equal(await failedAt(ws, "fetch"), 2);
    },
  );

  await t.step("an open page refreshes itself with the new numbers", async () => {
    // The store no longer changes; the page shows it once a refresh came after the last retry.
    const report = await statusJson(ws);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { shown, expected } = await figuresAndReport(watcher, report);
      if (shown.length > 0 && JSON.stringify(shown) === JSON.stringify(expected)) break;
      if (Date.now() > deadline) {
        assert.deepEqual(shown, expected, "the job page did not show the new figures within 30 s");
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(await figure(watcher, "feed", "stages.parse.failed"), "0");
    assert.equal(await figure(watcher, "feed", "stages.fetch.failed"), "2");
    assert.equal((await watcher.url()).pathname, FEED);
  });
});

Deno.test("on a narrow screen, failure errors wrap between words; only a longer token breaks", async () => {
  await using ws = await workspace();
  await using server = await startDashboard(ws.dir, ["--db", ws.db]);
  await using browser = await Browser.launch();
  const page = await browser.newPage({ width: 360, height: 900 });
  assert.equal(await page.goto(`${server.url}jobs/notes`), 200);
  // Each word of the failures table's errors, with the number of lines it is drawn on.
  const words = await page.evaluate<[string, number][]>(`(() => {
    const card = [...document.querySelectorAll("section.card")]
      .find((s) => s.querySelector("h2")?.textContent === "Failures by error");
    return [...card.querySelectorAll("td.error")].flatMap((td) => {
      const text = td.firstChild;
      return [...text.data.matchAll(/\\S+/g)].map((m) => {
        const range = document.createRange();
        range.setStart(text, m.index);
        range.setEnd(text, m.index + m[0].length);
        return [m[0], range.getClientRects().length];
      });
    });
  })()`);
  assert.deepEqual(words.filter(([, lines]) => lines > 1).map(([word]) => word), [LONG_TOKEN]);
  assert.ok(words.some(([word]) => word === "PermanentError:"), JSON.stringify(words));
  assert.ok(
    words.filter(([word]) => word !== LONG_TOKEN).every(([, lines]) => lines === 1),
    JSON.stringify(words),
  );
});

Deno.test("dashboard refuses a POST whose CSRF token is missing or wrong with 403", async () => {
  await using ws = await workspace();
  await using server = await startDashboard(ws.dir, ["--db", ws.db]);
  const page = await fetch(`${server.url}jobs/feed`);
  const csrf = (await page.text()).match(/name="csrf" value="([0-9a-f]+)"/)?.[1];
  assert.ok(csrf);
  for (const body of [new URLSearchParams({ reason: "x" }), new URLSearchParams({ csrf: "0" })]) {
    const refused = await fetch(`${server.url}jobs/feed/pause`, { method: "POST", body });
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
  }
  assert.equal((await jobState(ws, "feed")).paused, false);
  const accepted = await fetch(`${server.url}jobs/feed/pause`, {
    method: "POST",
    body: new URLSearchParams({ csrf }),
    redirect: "manual",
  });
  assert.equal(accepted.status, 303);
  assert.equal(accepted.headers.get("location"), "/jobs/feed?done=pause");
  await accepted.body?.cancel();
  assert.equal((await jobState(ws, "feed")).paused, true);
});

Deno.test(
  "dashboard off loopback answers 401 to every request without the token",
  async () => {
    await using ws = await workspace();
    await using server = await startDashboard(ws.dir, [
      "--db",
      ws.db,
      "--host",
      "0.0.0.0",
      "--token",
      "s3cret-token",
    ]);
    const base = server.url.replace("0.0.0.0", "127.0.0.1");
    const get = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(base + path, { redirect: "manual", ...init });
      await response.body?.cancel();
      return response;
    };
    for (const path of ["", "jobs/feed", "assets/dashboard.css", "jobs/feed/items/k01", "nope"]) {
      assert.equal((await get(path)).status, 401, path);
    }
    assert.equal((await get("", { headers: { authorization: "Bearer wrong" } })).status, 401);
    assert.equal((await get("?token=wrong")).status, 401);
    assert.equal((await get("", { method: "POST" })).status, 401);
    assert.equal(
      (await get("", { headers: { authorization: "Bearer s3cret-token" } })).status,
      200,
    );
    const login = await get("jobs/feed?token=s3cret-token");
    assert.equal(login.status, 303);
    assert.equal(login.headers.get("location"), "/jobs/feed");
    assert.match(login.headers.get("set-cookie") ?? "", /HttpOnly/);
    await using browser = await Browser.launch();
    const page = await browser.newPage();
    assert.equal(await page.goto(base), 401);
    assert.equal(await page.goto(`${base}?token=s3cret-token`), 200);
    assert.equal(await page.evaluate("document.title"), "jobs · overview");
    assert.equal((await page.url()).search, "");
    assert.equal(await page.clickAndWait('a[href="/jobs/feed"]'), 200);
    assert.equal(await figure(page, "feed", "items.total"), "22");
  },
);

Deno.test("dashboard will not serve off loopback without --token and exits 2", async () => {
  await using ws = await workspace();
  const { code, stdout, stderr } = await output(
    jobsCommand(ws, ["dashboard", "--host", "0.0.0.0"]),
  );
  assert.equal(code, 2);
  assert.equal(new TextDecoder().decode(stdout), "");
  assert.equal(
    new TextDecoder().decode(stderr),
    'Serving on "0.0.0.0" needs --token: off loopback every request must carry a secret\n',
  );
});

Deno.test("dashboard names the address when it cannot listen there, and exits 2", async () => {
  await using ws = await workspace();
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String((taken.addr as Deno.NetAddr).port);
  const { code, stderr } = await output(jobsCommand(ws, ["dashboard", "--port", port]));
  assert.equal(code, 2);
  assert.match(
    new TextDecoder().decode(stderr),
    new RegExp(`^Cannot listen on "127\\.0\\.0\\.1:${port}": `),
  );
});

Deno.test("dashboard rejects a bad --port with exit 2", async () => {
  await using ws = await workspace();
  const { code, stderr } = await output(jobsCommand(ws, ["dashboard", "--port", "http"]));
  assert.equal(code, 2);
  assert.equal(
    new TextDecoder().decode(stderr),
    '--port expects a whole number from 0 to 65535, got "http"\n',
  );
});

Deno.test("dashboard answers 404 for an unknown job or item and stops cleanly on SIGINT", async () => {
  await using ws = await workspace();
  const server = await startDashboard(ws.dir, ["--db", ws.db]);
  for (const path of ["jobs/nope", "jobs/feed/items/nope", "elsewhere"]) {
    const response = await fetch(server.url + path);
    assert.equal(response.status, 404, path);
    await response.body?.cancel();
  }
  const get = await fetch(`${server.url}jobs/feed/pause`);
  assert.equal(get.status, 405);
  await get.body?.cancel();
  server.child.kill("SIGINT");
  assert.equal(await server.exited, 0);
  await server[Symbol.asyncDispose]();
});
