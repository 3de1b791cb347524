import { deepStrictEqual as assertEquals, equal, ok } from "node:assert/strict";
import { AccessGuard, isLoopback } from "../../src/dashboard/access.ts";

Deno.test("isLoopback() accepts 127.0.0.0/8, ::1 and localhost only", () => {
  const hosts = [
    "127.0.0.1",
    "127.0.0.2",
    "::1",
    "[::1]",
    "localhost",
    "0.0.0.0",
    "::",
    "10.0.0.1",
  ];
  assertEquals(hosts.map(isLoopback), [true, true, true, true, true, false, false, false]);
});

function request(path: string, headers: Record<string, string> = {}): [Request, URL] {
  const url = new URL(`http://127.0.0.1:8377${path}`);
  return [new Request(url, { headers }), url];
}

Deno.test("AccessGuard without a token admits requests naming its own host, and its own forms", () => {
  const guard = new AccessGuard();
  for (const host of ["127.0.0.1:8377", "localhost:8377", "LOCALHOST", "localhost:9000"]) {
    equal(guard.admit(...request("/", { host })), undefined, host);
  }
  for (const host of ["evil.example:8377", "127.0.0.2:8377", "", "127.0.0.1:8377/x"]) {
    equal(guard.admit(...request("/", { host }))?.status, 403, host);
  }
  const post = (headers: Record<string, string>) => {
    const url = new URL("http://127.0.0.1:8377/jobs/feed/pause");
    return guard.admit(new Request(url, { method: "POST", headers }), url)?.status;
  };
  equal(post({ host: "127.0.0.1:8377" }), undefined);
  equal(post({ host: "127.0.0.1:8377", origin: "http://127.0.0.1:8377" }), undefined);
  equal(post({ host: "127.0.0.1:8377", origin: "http://evil.example" }), 403);
  equal(post({ host: "127.0.0.1:8377", origin: "null" }), 403);
  equal(post({ host: "127.0.0.1:8377", origin: "http://localhost:8377" }), 403);
  const v6 = new AccessGuard(undefined, { hostname: "::1" });
  equal(v6.admit(...request("/", { host: "[::1]:8377" })), undefined);
});

Deno.test("AccessGuard with a token admits the Bearer header or the cookie, else answers 401", () => {
  const guard = new AccessGuard("t0ken");
  equal(guard.admit(...request("/", { authorization: "Bearer t0ken" })), undefined);
  equal(guard.admit(...request("/", { cookie: "a=b; jobs_dashboard_token=t0ken" })), undefined);
  const refused: Record<string, string>[] = [
    {},
    { authorization: "Bearer t0ke" },
    { cookie: "jobs_dashboard_token=x" },
  ];
  for (const headers of refused) {
    equal(guard.admit(...request("/jobs/feed", headers))?.status, 401);
  }
});

Deno.test("AccessGuard swaps a correct ?token= for an HttpOnly cookie and a clean address", () => {
  const guard = new AccessGuard("t0ken");
  const response = guard.admit(...request("/jobs/feed?done=wake&token=t0ken"));
  equal(response?.status, 303);
  equal(response?.headers.get("location"), "/jobs/feed?done=wake");
  equal(
    response?.headers.get("set-cookie"),
    "jobs_dashboard_token=t0ken; HttpOnly; SameSite=Strict; Path=/",
  );
  equal(guard.admit(...request("/?token=nope"))?.status, 401);
});

Deno.test("AccessGuard accepts only this process's CSRF token", () => {
  const guard = new AccessGuard();
  ok(/^[0-9a-f]{64}$/.test(guard.csrfToken));
  ok(guard.validCsrf(guard.csrfToken));
  ok(!guard.validCsrf(new AccessGuard().csrfToken));
  ok(!guard.validCsrf(null));
  ok(!guard.validCsrf(""));
});
