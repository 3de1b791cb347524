/** Who may use the dashboard: the access token off loopback, and CSRF tokens on every form. */
import { timingSafeEqual } from "node:crypto";
import { quote } from "../util/quote.ts";

const COOKIE = "jobs_dashboard_token";

/** Whether `host` is a loopback address or name (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, "").toLowerCase();
  return name === "localhost" || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name);
}

/** Options of AccessGuard. */
export interface AccessGuardOptions {
  /** The address the dashboard listens on. Default "127.0.0.1". */
  hostname?: string;
}

/**
 * Checks requests against the access token (when one is set) and forms against the CSRF token.
 * Without a token, requests must name the dashboard itself: Host is the address it listens on
 * or localhost, and a POST's Origin, when sent, is the dashboard's own. Another site's page that
 * rebinds its DNS name to 127.0.0.1 then can neither read a page (and its CSRF token) nor post.
 */
export class AccessGuard {
  /** Random per process: a page's forms carry it, and every POST must send it back. */
  readonly csrfToken: string = randomToken();
  readonly #hosts: ReadonlySet<string>;

  constructor(readonly accessToken?: string, options: AccessGuardOptions = {}) {
    const listening = hostnameOf(bracketed(options.hostname ?? "127.0.0.1"));
    this.#hosts = new Set(["localhost", ...(listening === undefined ? [] : [listening])]);
  }

  /**
   * Undefined when the request may go on; otherwise the response to send: 403 for another
   * site's request, 401 without the token, or a redirect that swaps a correct `?token=` for an
   * HttpOnly cookie.
   */
  admit(request: Request, url: URL): Response | undefined {
    const token = this.accessToken;
    if (token === undefined) return this.#ownSite(request);
    const fromQuery = url.searchParams.get("token");
    if (fromQuery !== null && same(fromQuery, token)) {
      url.searchParams.delete("token");
      return new Response(null, {
        status: 303,
        headers: {
          location: url.pathname + url.search,
          "set-cookie": `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        },
      });
    }
    const bearer = request.headers.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
    const cookie = readCookie(request.headers.get("cookie"), COOKIE);
    if (
      (bearer !== undefined && same(bearer, token)) || (cookie !== undefined && same(cookie, token))
    ) {
      return undefined;
    }
    return new Response(
      'Unauthorized: this dashboard needs its token (header "Authorization: Bearer TOKEN", or ?token=TOKEN once)\n',
      {
        status: 401,
        headers: {
          "content-type": "text/plain; charset=utf-8",
          "www-authenticate": 'Bearer realm="jobs"',
        },
      },
    );
  }

  #ownSite(request: Request): Response | undefined {
    const host = request.headers.get("host") ?? "";
    const name = hostnameOf(host);
    if (name === undefined || !this.#hosts.has(name)) {
      return forbidden(
        `Forbidden: this dashboard answers only to ${[...this.#hosts].join(" and ")}, ` +
          `not to the host ${quote(host)}\n`,
      );
    }
    const origin = request.headers.get("origin");
    if (request.method === "POST" && origin !== null && !sameOrigin(origin, host)) {
      return forbidden(`Forbidden: a page of ${quote(origin)} cannot act on this dashboard\n`);
    }
    return undefined;
  }

  /** Whether a submitted form's CSRF field matches this process's token. */
  validCsrf(value: FormDataEntryValue | null): boolean {
    return typeof value === "string" && same(value, this.csrfToken);
  }
}

/** "host[:port]" → its lower-case host name ("[::1]" for IPv6); undefined when malformed. */
function hostnameOf(host: string): string | undefined {
  return /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.exec(host)?.[1].toLowerCase();
}

function bracketed(hostname: string): string {
  return hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return url.protocol === "http:" && url.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

function forbidden(text: string): Response {
  return new Response(text, {
    status: 403,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares in constant time for equal lengths, so the token cannot be guessed byte by byte. */
function same(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readCookie(header: string | null, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
