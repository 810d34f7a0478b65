import { priceBook } from "../../../components/cost/book";
import { configOf, resourcePolicy } from "../core/policy";
import { AS_OF_SCHEMA, asOfDay } from "../supply-chain/runtime";
import { EKS_CLUSTER } from "./eks";

export const kubernetesVersionSupported = resourcePolicy({
    name: "kubernetes-version-supported",
    summary: "An EKS cluster must declare a Kubernetes minor that is still in EKS standard support on the day of the plan (dates pinned in the price book).",
    enforcement: "advisory",
    meta: {
        area: "clusters-and-pools",
        source: "Amazon EKS Kubernetes version lifecycle (14 months of standard support, then 12 of extended support at $0.60 instead of $0.10 per cluster-hour); EKS upgrade policy supportType; components/cost/price-book.json kubernetesSupport",
        why: "Past standard support the control plane either bills six times the standard rate (supportType EXTENDED, EKS's default) or is upgraded by EKS on its own (STANDARD), leaving the program declaring an older version than the live cluster so that its next update fails. Advisory: the cure is an in-place control-plane upgrade, one minor per update, which must not be forced in the middle of an incident fix; the cost shows in the plan's cost table.",
    },
    fix: "Raise KUBERNETES_VERSION in components/versions.ts (with the add-on pins for the new minor), one minor per update on a live cluster: docs/clusters.md (Kubernetes upgrades).",
    configSchema: AS_OF_SCHEMA,
    types: [EKS_CLUSTER],
    validate: (args, report) => {
        const name = args.props.name ?? args.name;
        const version = typeof args.props.version === "string" ? args.props.version : "";
        if (version === "") {
            report(`EKS cluster ${name} declares no Kubernetes version: EKS picks its default at creation and the program never moves it.`);
            return;
        }
        const ends = priceBook().standardSupportEnds("aws", version);
        if (ends === undefined) {
            report(`EKS cluster ${name} runs Kubernetes ${version}, for which the price book records no standard-support dates: add them to kubernetesSupport.`);
            return;
        }
        const day = asOfDay(configOf(args, { asOf: "" }).asOf);
        if (Date.parse(`${ends}T00:00:00Z`) > day.getTime()) return;
        const standard = args.props.upgradePolicy?.supportType === "STANDARD";
        report(
            `EKS cluster ${name} runs Kubernetes ${version}, out of standard support since ${ends}: ` +
                (standard
                    ? "with supportType STANDARD EKS upgrades the control plane to the next minor by itself, past what this program declares."
                    : "it bills extended support ($0.60 instead of $0.10 per cluster-hour) until upgraded."),
        );
    },
});
