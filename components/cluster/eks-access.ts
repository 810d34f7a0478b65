import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Problem } from "./args";

/** An IAM role (not a user, not an assumed-role session) in any AWS partition. */
export const IAM_ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** Cluster-wide admin through the access-entry API; the policy EKS attaches to the creator as well. */
export const CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy";

/** Who may reach the cluster besides its creator, and why; each becomes an access entry with cluster admin. */
export interface EksClusterAdmin {
  /** Names the entry's resources and says what the role is for, e.g. `deploy`, `break-glass`. */
  readonly name: string;
  /** The IAM role's ARN (`arn:aws:iam::<account>:role/<name>`). */
  readonly roleArn: string;
}

/** Problems with the admins: a malformed or session ARN, a duplicate name or role. */
export function clusterAdminProblems(admins: readonly EksClusterAdmin[]): Problem[] {
  const problems: Problem[] = [];
  admins.forEach((a, i) => {
    if (!IAM_ROLE_ARN.test(a.roleArn)) {
      problems.push({
        propertyPath: `clusterAdmins[${i}].roleArn`,
        reason: `expected an IAM role ARN such as arn:aws:iam::123456789012:role/${a.name} (not a user or an assumed-role session), got "${a.roleArn}"`,
      });
    }
    if (admins.findIndex((b) => b.name === a.name) !== i) problems.push({ propertyPath: `clusterAdmins[${i}].name`, reason: `"${a.name}" is listed twice` });
    if (admins.findIndex((b) => b.roleArn === a.roleArn) !== i) problems.push({ propertyPath: `clusterAdmins[${i}].roleArn`, reason: `${a.roleArn} is listed twice` });
  });
  return problems;
}

/** The access entry and its cluster-wide admin association for one role. */
export function clusterAdminAccess(
  clusterName: pulumi.Input<string>,
  partition: pulumi.Input<string>,
  admin: EksClusterAdmin,
  tags: Record<string, string>,
): { entry: aws.eks.AccessEntryArgs; association: Omit<aws.eks.AccessPolicyAssociationArgs, "principalArn"> } {
  return {
    entry: { clusterName, principalArn: admin.roleArn, type: "STANDARD", tags: { ...tags, Access: admin.name } },
    association: {
      clusterName,
      policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/${CLUSTER_ADMIN_POLICY}`,
      accessScope: { type: "cluster" },
    },
  };
}

/**
 * Access entries for the cluster admins. The cluster creator keeps the admin entry EKS bootstrapped for it;
 * declaring an entry for the creator too would fail with 409 (ResourceInUseException), so a role that created
 * the cluster is adopted with `pulumi import` rather than listed twice (see docs/runbooks/disaster-recovery.md).
 */
export function createClusterAdmins(
  name: string,
  clusterName: pulumi.Input<string>,
  partition: pulumi.Input<string>,
  admins: readonly EksClusterAdmin[],
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): aws.eks.AccessPolicyAssociation[] {
  return admins.map((admin) => {
    const { entry, association } = clusterAdminAccess(clusterName, partition, admin, tags);
    const e = new aws.eks.AccessEntry(`${name}-access-${admin.name}`, entry, opts);
    return new aws.eks.AccessPolicyAssociation(`${name}-access-${admin.name}`, { ...association, principalArn: e.principalArn }, opts);
  });
}
