import type { ResourceValidationArgs } from "@pulumi/policy";
import { containersOf, objectName, podSpec, type ContainerRef, type Obj } from "../core/k8s";

export interface WorkloadView {
    readonly pod: Obj;
    readonly containers: ContainerRef[];
    /** "Deployment processors/video-processor" — how messages name the workload. */
    readonly what: string;
}

export function workloadView(args: ResourceValidationArgs, includeInit = true): WorkloadView {
    const pod = podSpec(args.type, args.props);
    if (!pod) args.notApplicable("the workload has no pod template");
    const kind = args.type.split(":").pop() ?? args.type;
    const ns = args.props?.metadata?.namespace ?? "default";
    return { pod, containers: containersOf(pod, includeInit), what: `${kind} ${ns}/${objectName(args.props, args.name)}` };
}
