/** What an alert says, in one line for people and as JSON fields for programs. */
import type { PendingAlert } from "../db/store.ts";

/** One line about `alert`. */
export function alertText(alert: PendingAlert): string {
  const job = alert.jobId === "" ? "" : `job ${alert.jobId}: `;
  const d = alert.data;
  switch (alert.kind) {
    case "failed": {
      const examples = (d.examples as { key: string; error: string }[] ?? []).slice(0, 3);
      const items = alert.count === 1 ? "1 item" : `${alert.count} items`;
      const e = examples.map((x) => `${x.key} (${x.error.slice(0, 120)})`).join(", ");
      return `${job}stage ${d.stage}: ${items} failed permanently${e ? `, e.g. ${e}` : ""}`;
    }
    case "paused":
      return `${job}paused by its circuit breaker: ${alert.message}`;
    case "crashed":
      return `${job}a run on ${d.host} (pid ${d.pid}, started ${
        new Date(d.startedAt as number).toISOString()
      }) crashed: ${alert.message}`;
    default:
      return `${job}${alert.message}`;
  }
}

/** The JSON body of a notification carrying `alerts` (one job and kind). */
export function notificationBody(alerts: PendingAlert[], host: string): string {
  const lines = alerts.map(alertText);
  const text = lines.length === 1
    ? `jobctl: ${lines[0]}`
    : `jobctl: ${lines.length} alerts\n${lines.map((l) => `• ${l}`).join("\n")}`;
  const first = alerts[0];
  return JSON.stringify({
    // Slack and Mattermost read "text", Discord reads "content".
    text,
    content: text.slice(0, 2000),
    kind: first.kind,
    job: first.jobId === "" ? null : first.jobId,
    host,
    alerts: alerts.map((a) => ({
      kind: a.kind,
      job: a.jobId === "" ? null : a.jobId,
      count: a.count,
      message: a.message,
      text: alertText(a),
      data: a.data,
      at: new Date(a.createdAt).toISOString(),
    })),
  });
}
