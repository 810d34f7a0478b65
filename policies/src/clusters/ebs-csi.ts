import { objectName, T } from "../core/k8s";
import { stackPolicy } from "../core/policy";
import { EKS_ADDON } from "./eks";

const STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass";
const EBS_CSI = "ebs.csi.aws.com";
const EBS_CSI_CHART = /(^|\/)aws-ebs-csi-driver$/;

export const ebsCsiDriverInstalled = stackPolicy({
    name: "ebs-csi-driver-installed",
    summary: "A stack that declares a StorageClass provisioned by ebs.csi.aws.com must install the EBS CSI driver (the aws-ebs-csi-driver EKS add-on or chart).",
    enforcement: "mandatory",
    meta: {
        area: "clusters-and-pools",
        source: "EKS user guide (the Amazon EBS CSI driver is not installed by default; in-tree EBS provisioning was removed in Kubernetes 1.27)",
        why: "Without the driver nothing provisions or attaches the volumes: the database's claims stay Pending and the DR database never starts, with nothing in a preview to say so.",
    },
    fix: "Add aws.eks.Addon { addonName: \"aws-ebs-csi-driver\", serviceAccountRoleArn: <role with AmazonEBSCSIDriverPolicy> } and let the database wait for it.",
    validate: (args, report) => {
        const classes = args.resources.filter((r) => r.type === STORAGE_CLASS && r.props.provisioner === EBS_CSI);
        if (classes.length === 0) args.notApplicable("no EBS StorageClass");
        const installed = args.resources.some(
            (r) =>
                (r.type === EKS_ADDON && r.props.addonName === "aws-ebs-csi-driver") ||
                ((r.type === T.HelmRelease || r.type === T.HelmChart) && EBS_CSI_CHART.test(String(r.props.chart ?? ""))),
        );
        if (!installed) for (const c of classes) report(`StorageClass ${objectName(c.props, c.name)} is provisioned by ${EBS_CSI}, but the stack installs no EBS CSI driver: its claims never bind.`, c.urn);
    },
});
