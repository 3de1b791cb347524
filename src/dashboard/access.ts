/** Who may use the dashboard: the access token off loopback, and CSRF tokens on every form. */
import { timingSafeEqual } from "node:crypto";

const COOKIE = "jobs_dashboard_token";

/** Whether `host` is a loopback address or name (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, "").toLowerCase();
  return name === "localhost" || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name);
}

/** Checks requests against the access token (when one is set) and forms against the CSRF token. */
export class AccessGuard {
  /** Random per process: a page's forms carry it, and every POST must send it back. */
  readonly csrfToken: string = randomToken();

  constructor(readonly accessToken?: string) {}

  /**
   * Undefined when the request may go on; otherwise the response to send: 401 without the
   * token, or a redirect that swaps a correct `?token=` for an HttpOnly cookie.
   */
  admit(request: Request, url: URL): Response | undefined {
    const token = this.accessToken;
    if (token === undefined) return undefined;
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

  /** Whether a submitted form's CSRF field matches this process's token. */
  validCsrf(value: FormDataEntryValue | null): boolean {
    return typeof value === "string" && same(value, this.csrfToken);
  }
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
