import { container, find, res, type Case, type Mutable } from "../util";

/** A GCP billing budget of `usd` a month, as the stack's StackBudget registers it. */
export function gcpBudget(name: string, usd: number): Mutable {
    return res("gcp:billing/budget:Budget", name, {
        billingAccount: "012345-6789AB-CDEF01",
        amount: { specifiedAmount: { currencyCode: "USD", units: String(usd) } },
        budgetFilter: { projects: ["projects/pitchey"], calendarPeriod: "MONTH" },
    });
}

export const costCases: Record<string, Case[]> = {
    "cost-ceiling-within-budget": [
        { name: "the budget is below the ceiling", culprit: "tight-budget", mutate: (s) => void s.push(gcpBudget("tight-budget", 1)) },
    ],
    "cost-floor-headroom": [
        { name: "the floor takes the whole budget", culprit: "floor-budget", mutate: (s) => void s.push(gcpBudget("floor-budget", 2)) },
    ],
    "cost-per-job-at-p95": [
        {
            name: "a job at its p95 costs more than $0.25",
            culprit: "video-processor",
            mutate: (s) => {
                const d = find(s, "video-processor");
                d.props.metadata.annotations = { ...(d.props.metadata.annotations ?? {}), "pitchey.io/latency-p95-seconds": "3600" };
                container(d).env.push({ name: "JOB_COST_PER_SECOND_USD", value: "0.001" });
            },
        },
    ],
};
