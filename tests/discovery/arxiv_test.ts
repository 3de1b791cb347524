import assert from "node:assert/strict";
import { ArxivDiscovery, schema } from "../../src/discovery/arxiv.ts";
import { DiscoveryError } from "../../src/discovery/base.ts";
import { reply, serveRoutes, testEnv } from "./_server.ts";

const IDS = ["2405.00001v2", "2405.00002v1", "2404.12345v3", "hep-th/9901001v1", "2403.00003v1"];

function entry(id: string, i: number): string {
  return `<entry>
    <id>http://arxiv.org/abs/${id}</id>
    <updated>2024-05-0${i + 2}T10:00:00Z</updated>
    <published>2024-05-0${i + 1}T17:59:59Z</published>
    <title>Paper ${i}:
      a title over two lines</title>
    <summary>  Abstract with
  newlines and &lt;tags&gt;.
    </summary>
    <author><name>Ada Lovelace</name><arxiv:affiliation>Somewhere</arxiv:affiliation></author>
    <author><name>Alan Turing</name></author>
    <arxiv:doi>10.1000/xyz${i}</arxiv:doi>
    <link title="doi" href="http://dx.doi.org/10.1000/xyz${i}" rel="related"/>
    <arxiv:comment>12 pages</arxiv:comment>
    <link href="http://arxiv.org/abs/${id}" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/${id}" rel="related" type="application/pdf"/>
    <arxiv:primary_category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
  </entry>`;
}

function page(start: number, count: number, total = IDS.length): string {
  const entries = IDS.slice(start, start + count).map((id, i) => entry(id, start + i)).join("");
  return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <title type="html">ArXiv Query: search_query=cat:cs.CL</title>
  <opensearch:totalResults>${total}</opensearch:totalResults>
  <opensearch:startIndex>${start}</opensearch:startIndex>
  <opensearch:itemsPerPage>${count}</opensearch:itemsPerPage>
  ${entries}
</feed>`;
}

function arxivServer() {
  return serveRoutes({
    "/api/query": (req) => {
      const params = new URL(req.url).searchParams;
      return reply(page(Number(params.get("start")), Number(params.get("max_results"))), {
        "content-type": "application/atom+xml",
      });
    },
  });
}

Deno.test("arxiv pages with start/max_results and keys papers by id without version", async () => {
  await using t = await testEnv();
  await using server = arxivServer();
  const options = schema.parse({
    query: "cat:cs.CL",
    page_size: 2,
    max_results: 10,
    page_delay: "0s",
    api_url: server.url("/api/query"),
  });
  const items = [...(await new ArxivDiscovery(options, t.env).discover()).items];
  assert.deepEqual(items.map((i) => i.key), [
    "2405.00001",
    "2405.00002",
    "2404.12345",
    "hep-th/9901001",
    "2403.00003",
  ]);
  assert.deepEqual(server.hits.map((h) => new URL(h.path, server.origin).searchParams.toString()), [
    "search_query=cat%3Acs.CL&start=0&max_results=2&sortBy=submittedDate&sortOrder=descending",
    "search_query=cat%3Acs.CL&start=2&max_results=2&sortBy=submittedDate&sortOrder=descending",
    "search_query=cat%3Acs.CL&start=4&max_results=2&sortBy=submittedDate&sortOrder=descending",
  ]);
  assert.deepEqual(items[0].data, {
    arxiv_id: "2405.00001",
    version: 2,
    url: "http://arxiv.org/abs/2405.00001v2",
    pdf_url: "http://arxiv.org/pdf/2405.00001v2",
    title: "Paper 0: a title over two lines",
    summary: "Abstract with newlines and <tags>.",
    authors: ["Ada Lovelace", "Alan Turing"],
    categories: ["cs.CL", "cs.LG"],
    primary_category: "cs.CL",
    published: "2024-05-01T17:59:59.000Z",
    updated: "2024-05-02T10:00:00.000Z",
    comment: "12 pages",
    doi: "10.1000/xyz0",
  });
});

Deno.test("arxiv stops at max_results and asks only for what is left", async () => {
  await using t = await testEnv();
  await using server = arxivServer();
  const options = schema.parse({
    query: "all:x",
    page_size: 2,
    max_results: 3,
    page_delay: "0s",
    api_url: server.url("/api/query"),
  });
  const { items } = await new ArxivDiscovery(options, t.env).discover();
  assert.equal(items.length, 3);
  assert.deepEqual(
    server.hits.map((h) => new URL(h.path, server.origin).searchParams.get("max_results")),
    ["2", "1"],
  );
});

Deno.test("arxiv reports an API error entry as a discovery error", async () => {
  const error =
    `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id><title>Error</title><summary>incorrect id format for 1234</summary></entry></feed>`;
  await using t = await testEnv();
  await using server = serveRoutes({ "/api/query": () => reply(error, {}, 200) });
  const options = schema.parse({ query: "id:1234", api_url: server.url("/api/query") });
  const err = await new ArxivDiscovery(options, t.env).discover().then(() => undefined, (e) => e);
  assert.ok(err instanceof DiscoveryError);
  assert.match(
    err.message,
    /^arXiv rejected the query at http:\/\/127\.0\.0\.1:\d+\/api\/query\?search_query=id%3A1234&start=0&max_results=100&sortBy=submittedDate&sortOrder=descending: incorrect id format for 1234$/,
  );
});

Deno.test("arxiv's schema requires a query and checks the sort options", () => {
  assert.deepEqual(schema.safeParse({}).error?.issues.map((i) => i.path.join(".")), ["query"]);
  assert.equal(schema.safeParse({ query: "x", sort_by: "date" }).success, false);
  assert.equal(schema.safeParse({ query: "x", url: "https://x" }).success, false);
});
