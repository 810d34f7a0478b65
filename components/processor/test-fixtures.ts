import type { ProcessorSettings } from "./settings";

const scaling = (
  minReplicas: number,
  maxReplicas: number,
  targetCPU: number,
  targetMemory: number,
  targetQueueDepth: number,
  scaleUpRate: number,
  scaleDownRate: number,
  cooldownPeriod: number,
) => ({ minReplicas, maxReplicas, targetCPU, targetMemory, targetQueueDepth, scaleUpRate, scaleDownRate, cooldownPeriod });

const resources = (cpu: string, memory: string, cpuLimit: string, memoryLimit: string, ephemeral: string, gpu = 0) => ({
  requests: { cpu, memory, ephemeralStorage: ephemeral },
  limits: { cpu: cpuLimit, memory: memoryLimit, ephemeralStorage: ephemeral },
  gpu,
});

/**
 * The five processors' settings written out by hand, so the component's tests need no stack config. The figures
 * are the playbook's; a stack test checks they still equal the stack config's defaults.
 */
export const PROCESSOR_FIXTURES: Record<
  "video-processor" | "document-processor" | "ai-inference" | "media-transcoder" | "code-executor",
  ProcessorSettings
> = {
  "video-processor": {
    scaling: scaling(2, 10, 70, 80, 50, 2, 1, 300),
    resources: resources("2", "4Gi", "4", "8Gi", "20Gi"),
    maxConcurrentJobs: 2,
    jobTimeoutSeconds: 900,
    jobLeaseSeconds: 30,
    rolloutTimeoutMinutes: 10,
    costPerSecondUsd: 0.00008,
    placement: { pool: "spot", fallbackToOnDemand: true },
    prewarm: [],
  },
  "document-processor": {
    scaling: scaling(3, 20, 75, 85, 100, 3, 1, 180),
    resources: resources("500m", "1Gi", "1", "2Gi", "2Gi"),
    maxConcurrentJobs: 4,
    jobTimeoutSeconds: 120,
    jobLeaseSeconds: 30,
    rolloutTimeoutMinutes: 10,
    costPerSecondUsd: 0.00002,
    placement: { pool: "general", fallbackToOnDemand: false },
    prewarm: [],
  },
  "ai-inference": {
    scaling: scaling(1, 5, 60, 70, 20, 1, 1, 600),
    resources: resources("2", "8Gi", "4", "16Gi", "10Gi", 1),
    maxConcurrentJobs: 8,
    jobTimeoutSeconds: 300,
    jobLeaseSeconds: 30,
    rolloutTimeoutMinutes: 30,
    costPerSecondUsd: 0.0003,
    placement: { pool: "gpu", fallbackToOnDemand: false },
    prewarm: [],
  },
  "media-transcoder": {
    scaling: scaling(2, 8, 70, 75, 40, 2, 1, 300),
    resources: resources("1", "2Gi", "2", "4Gi", "10Gi"),
    maxConcurrentJobs: 2,
    jobTimeoutSeconds: 600,
    jobLeaseSeconds: 30,
    rolloutTimeoutMinutes: 10,
    costPerSecondUsd: 0.00004,
    placement: { pool: "spot", fallbackToOnDemand: true },
    prewarm: [],
  },
  "code-executor": {
    scaling: scaling(5, 50, 80, 90, 200, 5, 2, 120),
    resources: resources("250m", "256Mi", "1", "512Mi", "1Gi"),
    maxConcurrentJobs: 10,
    jobTimeoutSeconds: 30,
    jobLeaseSeconds: 15,
    rolloutTimeoutMinutes: 10,
    costPerSecondUsd: 0.00001,
    placement: { pool: "sandbox", fallbackToOnDemand: false },
    prewarm: [],
  },
};
