import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { escapeHtml, Html, html } from "../../src/dashboard/html.ts";

Deno.test("escapeHtml() replaces the five characters that can open markup or end an attribute", () => {
  assertEquals(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
  );
});

Deno.test("html`` escapes text, keeps Html, joins lists and drops false, null and undefined", () => {
  const key = `"><script>alert(1)</script>`;
  const inner = html`<b>${key}</b>`;
  const out = html`<p title="${key}">${inner}${[1, "<", inner]}${false}${null}${undefined}${0}</p>`;
  assertEquals(
    out.value,
    '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">' +
      "<b>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</b>1&lt;" +
      "<b>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</b>0</p>",
  );
  assertEquals(html`${new Html("<br>")}`.value, "<br>");
});
