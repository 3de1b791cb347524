/** The page shell every dashboard page shares: head, header with crumbs, notice, footer. */
import { Html, html } from "./html.ts";
import { formatTime } from "./format.ts";

/** A step of the breadcrumb trail; the last one is the current page. */
export interface Crumb {
  label: string;
  href?: string;
}

/** Options of layout(). */
export interface LayoutOptions {
  /** Browser title, after "jobs · ". */
  title: string;
  crumbs: readonly Crumb[];
  /** A one-off message above the content, e.g. the outcome of an action. Default none. */
  notice?: string;
  /** When the page's numbers were read, shown in the footer. */
  now: number;
}

/** A whole HTML document around `body`. */
export function layout(body: Html, options: LayoutOptions): Html {
  const crumbs = options.crumbs.map((c, i) =>
    html`${i > 0 && " / "}${c.href ? html`<a href="${c.href}">${c.label}</a>` : c.label}`
  );
  const page = html`
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>jobs · ${options.title}</title>
        <link rel="stylesheet" href="/assets/dashboard.css">
        <script src="/assets/dashboard.js" defer></script>
        <noscript><meta http-equiv="refresh" content="10"></noscript>
      </head>
      <body>
        <header class="top"><a href="/">jobs</a><nav>${crumbs}</nav></header>
        <main>
    ${options.notice && html`<p class="notice" role="status">${options.notice}</p>`}
    ${body}
    <footer>Read at ${formatTime(options.now)} · refreshes every few seconds</footer>
        </main>
      </body>
    </html>
  `;
  // Outside the template, so that formatting it can never put anything before the doctype.
  return new Html(`<!doctype html>\n${page.value.trim()}\n`);
}
