import { arr, objectName, T, type Obj } from "../core/k8s";
import { resourcePolicy } from "../core/policy";

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
