import type { PoolName } from "../cluster/types";

/**
 * How a processor runs and scales: the shape of one entry of the stack's `processors` config, declared here so the
 * component can be used without that config. Every field is required; the stack config supplies the playbook's
 * figures as defaults, and a hand-written program states its own.
 */
export interface ProcessorSettings {
  readonly scaling: ProcessorScaling;
  readonly resources: ProcessorResources;
  /** Jobs one pod works on at once (`MAX_CONCURRENT_JOBS`). */
  readonly maxConcurrentJobs: number;
  /** A job's time limit; the pod's termination grace is this plus a drain margin. */
  readonly jobTimeoutSeconds: number;
  /** How long a claimed job stays leased without a heartbeat before another worker may take it. */
  readonly jobLeaseSeconds: number;
  /** How long `pulumi up` waits for the Deployment's rollout (create and update), in minutes. */
  readonly rolloutTimeoutMinutes: number;
  /** What one second of a job costs, for the cost metric. */
  readonly costPerSecondUsd: number;
  readonly placement: {
    /** The pool the pods run on. */
    readonly pool: PoolName;
    /** Spot pool only: schedule on the general (on-demand) pool when no spot capacity is available. */
    readonly fallbackToOnDemand: boolean;
  };
  /** Scheduled pre-warm windows (KEDA cron triggers); empty for none. */
  readonly prewarm: readonly PrewarmWindow[];
  /**
   * The service level the processor is held to. Recorded on the Deployment (`pitchey.io/slo-availability`,
   * `pitchey.io/latency-p95-seconds`) so checks over the plan, such as cost per job at p95, can read it. Default: none.
   */
  readonly slo?: { readonly availability: number; readonly latencyP95Seconds: number };
}

/** The playbook's scaling figures for one processor. */
export interface ProcessorScaling {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Target average CPU utilization, percent of requests. */
  readonly targetCPU: number;
  /** Target average memory utilization, percent of requests. */
  readonly targetMemory: number;
  /** Pending jobs of the type the queue trigger aims at. */
  readonly targetQueueDepth: number;
  /** Pods added per scaling step. */
  readonly scaleUpRate: number;
  /** Pods removed per scaling step. */
  readonly scaleDownRate: number;
  /** Seconds a scaling action holds before the next. */
  readonly cooldownPeriod: number;
}

/** Kubernetes quantities (`500m`, `2Gi`) per container, and GPUs. */
export interface ProcessorResources {
  readonly requests: ResourceQuantities;
  readonly limits: ResourceQuantities;
  /** `nvidia.com/gpu` per pod; 0 for none. */
  readonly gpu: number;
}

export interface ResourceQuantities {
  readonly cpu: string;
  readonly memory: string;
  readonly ephemeralStorage: string;
}

export interface PrewarmWindow {
  /** Shown in the KEDA trigger's name. */
  readonly name: string;
  /** IANA time zone of `start` and `end`. */
  readonly timezone: string;
  /** 5-field cron expressions opening and closing the window. */
  readonly start: string;
  readonly end: string;
  readonly desiredReplicas: number;
}
