/** What a job's operating settings are when jobs.yaml says nothing about them. */
import type { NotifyConfig, RetentionConfig } from "../../src/config/types.ts";

/** Default `retention` and `notify` of a job (and of the config). */
export const OPERATING_DEFAULTS: { retention: RetentionConfig; notify: NotifyConfig } = {
  retention: {
    eventsMs: 90 * 86_400_000,
    resultsMs: 30 * 86_400_000,
    httpCacheMs: 90 * 86_400_000,
  },
  notify: { targets: [], cooldownMs: 3_600_000, discoveryFailures: 3 },
};
