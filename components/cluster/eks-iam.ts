import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsTags } from "../labels";
import { movedFrom, type MovedFrom } from "../moved";
import { bucketFor, identityLookup, missingBucketGrants, type ResolvedCommonArgs } from "./args";

/** Trust policy letting exactly one Kubernetes ServiceAccount assume a role through the cluster's OIDC issuer. */
export function irsaTrustPolicy(providerArn: string, issuerUrl: string, namespace: string, serviceAccount: string): string {
  const issuer = issuerUrl.replace(/^https:\/\//, "");
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
            [`${issuer}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  });
}

export function servicePrincipalTrust(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** S3 rights per access: results are read and written; backups are only ever added to. */
export function bucketPolicy(partition: string, access: "results-bucket" | "backups-bucket", bucket: string) {
  const arn = `arn:${partition}:s3:::${bucket}`;
  const objectActions = access === "results-bucket" ? ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] : ["s3:PutObject"];
  return [
    { Effect: "Allow", Action: ["s3:ListBucket"], Resource: [arn] },
    { Effect: "Allow", Action: objectActions, Resource: [`${arn}/*`] },
  ];
}

export interface BucketGrant {
  readonly access: "results-bucket" | "backups-bucket";
  readonly bucket: string;
}

export function workloadPolicy(partition: string, grants: readonly BucketGrant[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: grants.flatMap((g) => bucketPolicy(partition, g.access, g.bucket)) });
}

export interface IrsaTrust {
  /** The cluster's IAM OIDC provider. */
  readonly providerArn: pulumi.Input<string>;
  /** The cluster's OIDC issuer URL. */
  readonly issuer: pulumi.Input<string>;
}

/** An IAM role exactly one Kubernetes ServiceAccount may assume (IRSA). */
export function irsaRole(
  name: string,
  trust: IrsaTrust,
  serviceAccount: { readonly namespace: string; readonly name: string },
  tags: Readonly<Record<string, string>>,
  opts: pulumi.CustomResourceOptions,
): aws.iam.Role {
  return new aws.iam.Role(
    name,
    {
      assumeRolePolicy: pulumi
        .all([trust.providerArn, trust.issuer])
        .apply(([arn, issuer]) => irsaTrustPolicy(arn, issuer, serviceAccount.namespace, serviceAccount.name)),
      tags: { ...tags, ServiceAccount: `${serviceAccount.namespace}/${serviceAccount.name}` },
    },
    opts,
  );
}

export interface EksWorkloadIdentitiesArgs {
  /** Workloads, buckets and labels (resolved cluster arguments). Required. */
  readonly cluster: ResolvedCommonArgs;
  /** Who the roles trust. Required. */
  readonly trust: IrsaTrust;
  /** The AWS partition, for bucket ARNs. Required. */
  readonly partition: pulumi.Input<string>;
  /** Where these resources were declared before this component existed (aliases keep them). Default: none. */
  readonly movedFrom?: MovedFrom;
}

/** One IAM role per requested workload, trusted only from its ServiceAccount, with its bucket rights. */
export class EksWorkloadIdentities extends pulumi.ComponentResource {
  readonly roles: ReadonlyMap<string, aws.iam.Role>;
  /** The role of a requested workload; throws for a name never requested. */
  readonly lookup: (name: string) => aws.iam.Role;

  constructor(name: string, args: EksWorkloadIdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:cluster:EksWorkloadIdentities", name, {}, opts);
    const a = args.cluster;
    const tags = awsTags(a.labels);
    const o = (role: string) => ({ parent: this, ...movedFrom(args.movedFrom, role) });
    for (const warning of missingBucketGrants(a)) pulumi.log.warn(warning, this);
    const roles = new Map<string, aws.iam.Role>();
    for (const w of a.workloads) {
      const role = irsaRole(`${name}-irsa-${w.name}`, args.trust, w, tags, o(`irsa-${w.name}`));
      const grants = w.access.flatMap((acc) => {
        const bucket = bucketFor(a, acc);
        return bucket ? [{ access: acc, bucket }] : [];
      });
      if (grants.length > 0) {
        new aws.iam.RolePolicy(
          `${name}-irsa-${w.name}`,
          { role: role.name, policy: pulumi.output(args.partition).apply((p) => workloadPolicy(p, grants)) },
          o(`irsa-${w.name}`),
        );
      }
      roles.set(w.name, role);
    }
    this.roles = roles;
    this.lookup = identityLookup("EksCluster.serviceAccountAnnotations", roles);
    this.registerOutputs({});
  }
}
