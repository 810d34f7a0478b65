// graphile-worker as the benchmarks run it.
import type {} from "graphile-worker";

export type GraphileWorkerOptions = NonNullable<GraphileConfig.Preset["worker"]>;

/**
 * Its performance page's configuration: a local queue of 500 jobs fetched and
 * locked in one query, and completions and failures written in batches as soon
 * as the current tick ends; plus the local queue's 10 ms refetch delay that its
 * own performance test (perfTest/graphile.config.js) sets, which measured ~20 %
 * faster here than without. Its pool (concurrency + 4) is above the docs'
 * concurrency + 1, and prepared statements are on (its default).
 */
export const GRAPHILE_FASTEST: GraphileWorkerOptions = {
  localQueue: { size: 500, refetchDelay: { durationMs: 10 } },
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
};

