import assert from "node:assert/strict";
import { DiscoveryError } from "../../src/discovery/base.ts";
import { GithubDiscovery, schema } from "../../src/discovery/github.ts";
import { reply, serveRoutes, testEnv } from "./_server.ts";

const NOW = Date.parse("2024-06-01T12:00:00Z");

function release(n: number) {
  return {
    id: n,
    tag_name: `v1.${n}.0`,
    name: `Release 1.${n}`,
    html_url: `https://github.com/octo/demo/releases/tag/v1.${n}.0`,
    published_at: `2024-05-0${n}T10:00:00Z`,
    created_at: `2024-05-0${n}T09:00:00Z`,
    draft: false,
    prerelease: n === 3,
    body: `Notes ${n}`,
    assets: [{
      name: "demo.tar.gz",
      browser_download_url: `https://github.com/octo/demo/releases/download/v1.${n}.0/demo.tar.gz`,
    }],
  };
}

function json(value: unknown, headers: Record<string, string> = {}): Response {
  return reply(JSON.stringify(value), {
    "content-type": "application/json; charset=utf-8",
    ...headers,
  });
}

Deno.test("github lists releases across Link pages with the token and API headers", async () => {
  await using server = serveRoutes({
    "/repos/octo/demo/releases": (req) => {
      const page = new URL(req.url).searchParams.get("page") ?? "1";
      if (page === "1") {
        const link =
          `<${server.url("/repos/octo/demo/releases?per_page=100&page=2")}>; rel="next", ` +
          `<${server.url("/repos/octo/demo/releases?per_page=100&page=2")}>; rel="last"`;
        return json([release(3), release(2)], { link, "x-ratelimit-remaining": "4999" });
      }
      return json([release(1)]);
    },
  });
  await using t = await testEnv({ now: () => NOW });
  const options = schema.parse({
    repo: "octo/demo",
    kind: "releases",
    token: "ghp_secret",
    api_url: server.origin,
  });
  const items = [...(await new GithubDiscovery(options, t.env).discover()).items];
  assert.deepEqual(items.map((i) => i.key), ["v1.3.0", "v1.2.0", "v1.1.0"]);
  assert.deepEqual(items[0].data, {
    tag: "v1.3.0",
    name: "Release 1.3",
    url: "https://github.com/octo/demo/releases/tag/v1.3.0",
    published_at: "2024-05-03T10:00:00Z",
    draft: false,
    prerelease: true,
    body: "Notes 3",
    assets: [{
      name: "demo.tar.gz",
      url: "https://github.com/octo/demo/releases/download/v1.3.0/demo.tar.gz",
    }],
  });
  assert.deepEqual(server.hits.map((h) => h.path), [
    "/repos/octo/demo/releases?per_page=100",
    "/repos/octo/demo/releases?per_page=100&page=2",
  ]);
  const headers = server.hits[0].headers;
  assert.equal(headers.get("authorization"), "Bearer ghp_secret");
  assert.equal(headers.get("accept"), "application/vnd.github+json");
  assert.equal(headers.get("x-github-api-version"), "2022-11-28");
  assert.ok(!JSON.stringify(t.logs).includes("ghp_secret"));
});

Deno.test("github issues leave out pull requests; tags and commits have their natural keys", async () => {
  await using server = serveRoutes({
    "/repos/octo/demo/issues": () =>
      json([
        {
          number: 12,
          title: "Crash on start",
          html_url: "https://github.com/octo/demo/issues/12",
          state: "open",
          user: { login: "ann" },
          labels: [{ name: "bug" }],
          created_at: "2024-05-01T00:00:00Z",
          updated_at: "2024-05-02T00:00:00Z",
          body: "It crashes",
        },
        {
          number: 13,
          title: "Fix crash",
          pull_request: { url: "x" },
          html_url: "https://github.com/octo/demo/pull/13",
        },
      ]),
    "/repos/octo/demo/tags": () => json([{ name: "v2.0.0", commit: { sha: "abc123" } }]),
    "/repos/octo/demo/commits": () =>
      json([{
        sha: "abc123",
        html_url: "https://github.com/octo/demo/commit/abc123",
        commit: { message: "Fix it", author: { name: "Ann", date: "2024-05-03T00:00:00Z" } },
      }]),
  });
  await using t = await testEnv();
  const run = async (kind: string) => [
    ...(await new GithubDiscovery(
      schema.parse({ repo: "octo/demo", kind, api_url: server.origin }),
      t.env,
    ).discover())
      .items,
  ];
  assert.deepEqual(await run("issues"), [{
    key: "12",
    data: {
      number: 12,
      title: "Crash on start",
      url: "https://github.com/octo/demo/issues/12",
      state: "open",
      author: "ann",
      labels: ["bug"],
      created_at: "2024-05-01T00:00:00Z",
      updated_at: "2024-05-02T00:00:00Z",
      body: "It crashes",
    },
  }]);
  assert.equal(server.hits[0].path, "/repos/octo/demo/issues?per_page=100&state=all");
  assert.equal(server.hits[0].headers.get("authorization"), null);
  assert.deepEqual(await run("tags"), [{
    key: "v2.0.0",
    data: { name: "v2.0.0", sha: "abc123", url: "https://github.com/octo/demo/tree/v2.0.0" },
  }]);
  assert.deepEqual(await run("commits"), [{
    key: "abc123",
    data: {
      sha: "abc123",
      message: "Fix it",
      author: "Ann",
      date: "2024-05-03T00:00:00Z",
      url: "https://github.com/octo/demo/commit/abc123",
    },
  }]);
});

Deno.test("github stops paging with a warning when the rate limit is spent until a distant reset", async () => {
  const reset = String(Math.floor(NOW / 1000) + 3600);
  await using server = serveRoutes({
    "/repos/octo/demo/tags": () =>
      json([{ name: "v1", commit: { sha: "1" } }], {
        link: `<${server.url("/repos/octo/demo/tags?page=2")}>; rel="next"`,
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": reset,
      }),
  });
  await using t = await testEnv({ now: () => NOW });
  const options = schema.parse({ repo: "octo/demo", kind: "tags", api_url: server.origin });
  const result = await new GithubDiscovery(options, t.env).discover();
  assert.deepEqual([...result.items].map((i) => i.key), ["v1"]);
  assert.equal(server.hits.length, 1);
  assert.deepEqual(t.logs.map((l) => [l.level, l.message]), [
    ["warn", "GitHub rate limit reached; stopping until it resets at 2024-06-01T13:00:00.000Z"],
  ]);
});

Deno.test("github waits for a rate-limit reset that is due and goes on", async () => {
  await using server = serveRoutes({
    "/repos/octo/demo/tags": (_req, hit) =>
      hit === 1
        ? json([{ name: "v2", commit: { sha: "2" } }], {
          link: `<${server.url("/repos/octo/demo/tags?page=2")}>; rel="next"`,
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(Math.floor(NOW / 1000)),
        })
        : json([{ name: "v1", commit: { sha: "1" } }]),
  });
  await using t = await testEnv({ now: () => NOW });
  const options = schema.parse({ repo: "octo/demo", kind: "tags", api_url: server.origin });
  const result = await new GithubDiscovery(options, t.env).discover();
  assert.deepEqual([...result.items].map((i) => i.key), ["v2", "v1"]);
  assert.deepEqual(t.logs.map((l) => l.message), ["GitHub rate limit reached; waiting 0s"]);
});

Deno.test("github explains an exhausted rate limit and a missing token variable", async () => {
  await using server = serveRoutes({
    "/repos/octo/demo/releases": () =>
      reply(JSON.stringify({ message: "API rate limit exceeded" }), {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(Math.floor(NOW / 1000) + 600),
      }, 403),
  });
  await using t = await testEnv({ now: () => NOW });
  const options = schema.parse({ repo: "octo/demo", kind: "releases", api_url: server.origin });
  const err = await new GithubDiscovery(options, t.env).discover().catch((e) => e);
  assert.ok(err instanceof DiscoveryError);
  assert.equal(
    err.message,
    `GitHub rate limit exhausted for ${server.url("/repos/octo/demo/releases?per_page=100")}; ` +
      "it resets at 2024-06-01T12:10:00.000Z (a token raises the limit)",
  );
  assert.equal(server.hits.length, 1);
  Deno.env.delete("JOBS_TEST_MISSING_TOKEN");
  const noToken = schema.parse({ ...options, token_env: "JOBS_TEST_MISSING_TOKEN" });
  const err2 = await new GithubDiscovery(noToken, t.env).discover().catch((e) => e);
  assert.equal(
    err2.message,
    "Cannot read the GitHub token: $JOBS_TEST_MISSING_TOKEN (token_env) is not set",
  );
});

Deno.test("github reads the token from token_env", async () => {
  await using server = serveRoutes({ "/repos/octo/demo/tags": () => json([]) });
  await using t = await testEnv();
  Deno.env.set("JOBS_TEST_GH_TOKEN", "from-env");
  try {
    const options = schema.parse({
      repo: "octo/demo",
      kind: "tags",
      token_env: "JOBS_TEST_GH_TOKEN",
      api_url: server.origin,
    });
    assert.deepEqual([...(await new GithubDiscovery(options, t.env).discover()).items], []);
    assert.equal(server.hits[0].headers.get("authorization"), "Bearer from-env");
  } finally {
    Deno.env.delete("JOBS_TEST_GH_TOKEN");
  }
});

Deno.test("github's schema checks repo and kind", () => {
  const bad = schema.safeParse({ repo: "octo", kind: "stars" });
  assert.deepEqual(bad.error?.issues.map((i) => [i.path.join("."), i.message]), [
    ["repo", 'expected "owner/name"'],
    ["kind", 'Invalid option: expected one of "releases"|"tags"|"issues"|"commits"'],
  ]);
});
