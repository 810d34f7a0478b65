import { stackPolicy } from "../core/policy";
import { EKS_CLUSTER } from "./eks";

const ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry";
const ACCESS_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation";

export const eksAccessBeyondCreator = stackPolicy({
    name: "eks-access-beyond-creator",
    summary: "An EKS cluster must grant access to at least one IAM role through an access entry with an access policy, not only to the identity that created it.",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: "EKS user guide (access entries; the creator's bootstrap admin entry); EKS Best Practices Guide (identity and access management)",
        why: "With only the creator's bootstrap entry, CI and the on-call engineer are Unauthorized in the middle of a failover, and whoever created the cluster holds the only key.",
    },
    fix: "Declare aws.eks.AccessEntry and aws.eks.AccessPolicyAssociation for the deploy and break-glass roles (cluster.access in the stack config).",
    validate: (args, report) => {
        const clusters = args.resources.filter((r) => r.type === EKS_CLUSTER);
        if (clusters.length === 0) args.notApplicable("no EKS cluster");
        for (const c of clusters) {
            const name = c.props.name ?? c.name;
            const mine = (type: string) => args.resources.filter((r) => r.type === type && (r.props.clusterName === undefined || r.props.clusterName === name));
            const associated = new Set(mine(ACCESS_ASSOCIATION).map((a) => a.props.principalArn));
            const granted = mine(ACCESS_ENTRY).filter((e) => associated.has(e.props.principalArn));
            if (granted.length === 0) report(`EKS cluster ${name} grants no IAM role access beyond its creator (no access entry with an access policy).`, c.urn);
        }
    },
});
