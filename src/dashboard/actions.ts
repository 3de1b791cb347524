/** The dashboard's POST actions: pause, unpause, wake and retry failed stages. */

import { itemPath, jobPath, type PageContext } from "./context.ts";

/** Names of the actions, as the last segment of their path. */
export const ACTIONS = ["pause", "unpause", "wake", "retry"] as const;

/** One of ACTIONS. */
export type ActionName = typeof ACTIONS[number];

/** What an action did, shown once on the page it returns to. */
const NOTICES: Record<ActionName, (n: number) => string> = {
  pause: () => "Paused: no stage of this job is claimed until it is unpaused.",
  unpause: () => "Unpaused: runs claim this job's stages again.",
  wake: () => "Woken: the next run discovers at once.",
  retry: (n) => `${n} failed stage${n === 1 ? "" : "s"} put back to pending.`,
};

/** The notice for `?done=ACTION&n=COUNT`, or undefined when the query names no action. */
export function noticeFor(params: URLSearchParams): string | undefined {
  const done = params.get("done");
  if (!done || !(ACTIONS as readonly string[]).includes(done)) return undefined;
  return NOTICES[done as ActionName](Number(params.get("n")) || 0);
}

/**
 * Runs `action` on `jobId` with the submitted form and redirects (303) to the page it came
 * from; an unknown stage is a 400. The caller has checked the job and the CSRF token.
 */
export async function runAction(
  ctx: PageContext,
  request: { jobId: string; action: ActionName; form: FormData },
): Promise<Response> {
  const { jobId, form } = request;
  const field = (name: string) => {
    const value = form.get(name);
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  let count = 0;
  let back = jobPath(jobId);
  switch (request.action) {
    case "pause":
      await ctx.db.setJobPaused({
        jobId,
        paused: true,
        reason: field("reason") ?? "paused from the dashboard",
      });
      break;
    case "unpause":
      await ctx.db.setJobPaused({ jobId, paused: false, reason: "unpaused from the dashboard" });
      break;
    case "wake":
      await ctx.db.wakeJob(jobId, ctx.now());
      break;
    case "retry": {
      const stage = field("stage");
      const job = ctx.config.jobs.find((j) => j.id === jobId);
      if (stage !== undefined && !job?.stages.some((s) => s.name === stage)) {
        return new Response(`Unknown stage "${stage}" of job "${jobId}"\n`, { status: 400 });
      }
      const itemKey = field("item");
      count = await ctx.db.retryFailed({ jobId, stage, errorContains: field("error"), itemKey });
      if (itemKey !== undefined) back = itemPath(jobId, itemKey);
      break;
    }
  }
  const query = `?done=${request.action}${request.action === "retry" ? `&n=${count}` : ""}`;
  return new Response(null, { status: 303, headers: { location: back + query } });
}
