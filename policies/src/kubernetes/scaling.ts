import { arr, containersOf, objectName, podSpec, T, type Obj } from "../core/k8s";
import { configOf, resourcePolicy } from "../core/policy";

/** Triggers that do not count work waiting; any other KEDA scaler (postgresql, prometheus, sqs, …) does. */
const NON_QUEUE_TRIGGERS = ["cpu", "memory", "cron"];

export const queueTriggerTotal = resourcePolicy({
    name: "keda-queue-trigger-total-depth",
    summary: "KEDA queue-depth triggers must compare the whole queue with the target (metricType: Value), not the queue per replica.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "KEDA ScaledObject triggers[].metricType (default AverageValue); Kubernetes HPA algorithm; operations playbook Scaling Strategies (queue_depth > target × 1.1)",
        why: "The playbook's queue target is a total: with KEDA's default AverageValue the HPA divides the queue by the running replicas, so at five replicas a target of 200 first scales at 1,100 waiting jobs, past the 500-job critical threshold.",
    },
    fix: "Set metricType: Value on the trigger (targetQueryValue / target is then the whole queue).",
    types: [T.ScaledObject],
    validate: (args, report) => {
        for (const t of arr<Obj>(args.props.spec?.triggers)) {
            if (NON_QUEUE_TRIGGERS.includes(String(t.type))) continue;
            const metricType = t.metricType ?? "AverageValue";
            if (metricType !== "Value") {
                report(`ScaledObject ${objectName(args.props, args.name)}: the ${t.type} trigger uses ${metricType}, so its target is per replica.`);
            }
        }
    },
});

export const scalingRateLimited = resourcePolicy({
    name: "keda-scaling-rate-limited",
    summary: "ScaledObjects must bound how fast the HPA adds and removes pods (behavior scaleUp/scaleDown policies) and stabilize scale-down.",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Kubernetes HPA behavior (scaleUp defaults: double or +4 pods every 15 s; scaleDown: 300 s window); operations playbook scaleUpRate / scaleDownRate / cooldownPeriod",
        why: "Without policies the HPA may double a pool every 15 seconds (GPU and spot nodes included) where the playbook adds a few pods per cooldown; without a scale-down window a short dip undoes a scale-up.",
    },
    fix: "Set spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.policies and scaleDown.policies (Pods per cooldown) and scaleDown.stabilizationWindowSeconds.",
    types: [T.ScaledObject],
    validate: (args, report) => {
        const name = objectName(args.props, args.name);
        const behavior = args.props.spec?.advanced?.horizontalPodAutoscalerConfig?.behavior ?? {};
        for (const dir of ["scaleUp", "scaleDown"] as const) {
            const policies = arr<Obj>(behavior[dir]?.policies);
            if (policies.length === 0) report(`ScaledObject ${name} has no ${dir} policies: the HPA's defaults apply.`);
        }
        const window = behavior.scaleDown?.stabilizationWindowSeconds;
        if (typeof window === "number" && window <= 0) report(`ScaledObject ${name} scales down without a stabilization window.`);
    },
});

const GPU_RESOURCE = "nvidia.com/gpu";
/** Node from zero (~5 min), driver install (~5 min), multi-GB CUDA image (~5 min), 300 s startup probe. */
const GPU_ROLLOUT_MINUTES = 20;

export const gpuRolloutTimeout = resourcePolicy({
    name: "gpu-rollout-timeout",
    summary: "Deployments that request GPUs must give Pulumi a create and update timeout long enough for a GPU node from zero (customTimeouts).",
    enforcement: "mandatory",
    meta: {
        area: "kubernetes-workloads",
        source: "Pulumi customTimeouts resource option (Kubernetes provider waits 10 minutes for a Deployment by default); GKE / EKS GPU node provisioning and driver installation",
        why: "The first rollout waits for a GPU node from zero, its driver, a multi-GB image and a long startup probe; past the 10-minute default `pulumi up` fails although the rollout would have succeeded.",
    },
    fix: "Set customTimeouts { create, update } on the Deployment from the processor's rolloutTimeoutMinutes (at least 20m).",
    configSchema: { properties: { gpuRolloutMinutes: { type: "integer", default: GPU_ROLLOUT_MINUTES } } },
    types: [T.Deployment, T.StatefulSet],
    validate: (args, report) => {
        const spec = podSpec(args.type, args.props);
        const gpu = containersOf(spec).some(({ c }) => c?.resources?.limits?.[GPU_RESOURCE] !== undefined || c?.resources?.requests?.[GPU_RESOURCE] !== undefined);
        if (!gpu) args.notApplicable("requests no GPU");
        const cfg = configOf(args, { gpuRolloutMinutes: GPU_ROLLOUT_MINUTES });
        const t = args.opts.customTimeouts ?? { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 };
        for (const [what, seconds] of [["create", t.createSeconds], ["update", t.updateSeconds]] as const) {
            if (seconds < cfg.gpuRolloutMinutes * 60) {
                report(`${objectName(args.props, args.name)} requests a GPU but Pulumi waits ${seconds ? `${seconds / 60} min` : "the default 10 min"} for its ${what}; a GPU node from zero needs at least ${cfg.gpuRolloutMinutes} min.`);
            }
        }
    },
});
