/** Reading a parsed XML tree: text, markup, child elements and namespaced attributes. */
import { WELL_KNOWN_PREFIXES, type XmlElement } from "./_xml.ts";

/** The element's text: its text children and those of its descendants, in order. */
export function textOf(el: XmlElement): string {
  if (el.children.length === 1 && typeof el.children[0] === "string") return el.children[0];
  let out = "";
  for (const child of el.children) out += typeof child === "string" ? child : textOf(child);
  return out;
}

/** The element's content as markup: text escaped, child elements serialised. */
export function innerXml(el: XmlElement): string {
  let out = "";
  for (const child of el.children) {
    if (typeof child === "string") out += escapeXml(child);
    else {
      const attrs = Object.entries(child.attrs)
        .filter(([k]) => k !== "xmlns" && !k.startsWith("xmlns:"))
        .map(([k, v]) => ` ${k}="${escapeXml(v).replaceAll('"', "&quot;")}"`).join("");
      out += `<${child.local}${attrs}>${innerXml(child)}</${child.local}>`;
    }
  }
  return out;
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Child elements of `el`, optionally only those named `local` in one of `namespaces`. */
export function childElements(
  el: XmlElement,
  local?: string,
  namespaces?: ReadonlySet<string>,
): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of el.children) {
    if (typeof child === "string") continue;
    if (local !== undefined && child.local !== local) continue;
    if (namespaces !== undefined && !namespaces.has(child.ns)) continue;
    out.push(child);
  }
  return out;
}

/** The value of attribute `local` in namespace `ns` ("" for unprefixed attributes). */
export function attrOf(el: XmlElement, local: string, ns = ""): string | undefined {
  if (ns === "") return el.attrs[local];
  for (const [key, value] of Object.entries(el.attrs)) {
    const colon = key.indexOf(":");
    if (colon < 0 || key.slice(colon + 1) !== local) continue;
    const prefix = key.slice(0, colon);
    if ((el.scope[prefix] ?? WELL_KNOWN_PREFIXES[prefix]) === ns) return value;
  }
  return undefined;
}
