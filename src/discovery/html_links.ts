/** html_links: the links of a web page, picked by CSS selector and/or a pattern on href. */
import { compile, selectAll } from "css-select";
import type { AnyNode, Element } from "domhandler";
import { DomUtils, parseDocument } from "htmlparser2";
import { z } from "zod";
import {
  BaseDiscovery,
  commonOptions,
  NOT_MODIFIED,
  type RawItem,
  regexString,
  requireSource,
} from "./base.ts";

const selector = z.string().min(1).superRefine((value, ctx) => {
  try {
    compile(value);
  } catch (err) {
    ctx.addIssue({
      code: "custom",
      message: `invalid CSS selector "${value}": ${(err as Error).message}`,
    });
  }
});

/** Options of the html_links strategy. */
export const schema = requireSource(z.strictObject({
  ...commonOptions,
  /** Elements whose href is taken; default "a[href]". */
  selector: selector.optional(),
  /** Keep only links whose href, as written in the page, matches this regular expression. */
  pattern: regexString.optional(),
  /** Keep only links to the page's own host name; default true. */
  same_site: z.boolean().optional(),
}));

/** Parsed options of the html_links strategy. */
export type HtmlLinksOptions = z.infer<typeof schema>;

/** Links resolved against <base href> or the page URL, without fragments, http(s) only. */
export class HtmlLinksDiscovery extends BaseDiscovery<HtmlLinksOptions> {
  /** One item per distinct link: data {url, text, page}. */
  async fetchItems(): Promise<RawItem[]> {
    const items: RawItem[] = [];
    for (const url of this.sourceUrls()) {
      const body = await this.fetchText(url, {
        conditional: true,
        headers: { accept: "text/html" },
      });
      if (body === NOT_MODIFIED) continue;
      // One push per link: spreading a million links into push() overflows the stack.
      for (const item of this.#links(body.text, body.url)) items.push(item);
    }
    return items;
  }

  #links(html: string, pageUrl: string): RawItem[] {
    const document = parseDocument(html);
    const baseHref = DomUtils.findOne(
      (el) => el.name === "base" && "href" in el.attribs,
      document.children,
    );
    const base = resolveUrl(baseHref?.attribs.href ?? "", pageUrl) ?? pageUrl;
    const pattern = this.options.pattern === undefined
      ? undefined
      : new RegExp(this.options.pattern);
    const host = hostOf(pageUrl);
    const items: RawItem[] = [];
    for (
      const element of selectAll<AnyNode, Element>(this.options.selector ?? "a[href]", document)
    ) {
      const href = element.attribs?.href;
      if (href === undefined || (pattern && !pattern.test(href))) continue;
      const url = resolveUrl(href, base);
      if (url === undefined) continue;
      if (this.options.same_site !== false && hostOf(url) !== host) continue;
      const text = DomUtils.textContent(element).replace(/\s+/g, " ").trim();
      items.push({ url, data: { url, text, page: pageUrl } });
    }
    return items;
  }
}

/** `href` resolved against `base`, without fragment; undefined unless http(s). */
function resolveUrl(href: string, base: string): string | undefined {
  try {
    const url = new URL(href.trim(), base);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    url.hash = "";
    return url.href;
  } catch {
    return undefined;
  }
}

function hostOf(url: string): string {
  return new URL(url).hostname;
}
