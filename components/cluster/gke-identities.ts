import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { movedFrom, type MovedFrom } from "../moved";
import { bucketFor, identityLookup, missingBucketGrants, type ResolvedCommonArgs } from "./args";

/** A GCP service account id: 6–30 characters, lowercase, starting with a letter. */
export function gcpAccountId(prefix: string, name: string): string {
  return `${prefix}-${name}`.slice(0, 30).replace(/-+$/, "");
}

export function workloadIdentityMember(project: string, namespace: string, name: string): string {
  return `serviceAccount:${project}.svc.id.goog[${namespace}/${name}]`;
}

/** What each workload access grants on its bucket; registry pulls are the node's, not the workload's. */
export const GKE_BUCKET_ROLES = {
  "results-bucket": "roles/storage.objectUser",
  // Backups are written, never rewritten: without delete or overwrite a compromised pod cannot erase them.
  "backups-bucket": "roles/storage.objectCreator",
} as const;

export interface GkeWorkloadIdentitiesArgs {
  /** Workloads, buckets and labels (resolved cluster arguments). Required. */
  readonly cluster: ResolvedCommonArgs;
  /** The project the service accounts live in. Required. */
  readonly project: string;
  /** The cluster: its `<project>.svc.id.goog` pool exists only once it does. Required. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /** Where these resources were declared before this component existed (aliases keep them). Default: none. */
  readonly movedFrom?: MovedFrom;
}

/** One Google service account per requested workload, bound to its Kubernetes ServiceAccount, with its bucket rights. */
export class GkeWorkloadIdentities extends pulumi.ComponentResource {
  readonly accounts: ReadonlyMap<string, gcp.serviceaccount.Account>;
  /** The account of a requested workload; throws for a name never requested. */
  readonly lookup: (name: string) => gcp.serviceaccount.Account;

  constructor(name: string, args: GkeWorkloadIdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:cluster:GkeWorkloadIdentities", name, {}, opts);
    const a = args.cluster;
    const project = args.project;
    const o = (role: string) => ({ parent: this, ...movedFrom(args.movedFrom, role) });
    for (const warning of missingBucketGrants(a)) pulumi.log.warn(warning, this);
    const accounts = new Map<string, gcp.serviceaccount.Account>();
    for (const w of a.workloads) {
      const gsa = new gcp.serviceaccount.Account(
        `${name}-wi-${w.name}`,
        { accountId: gcpAccountId("wi", w.name), project, displayName: `${w.namespace}/${w.name} (Workload Identity)` },
        o(`wi-${w.name}`),
      );
      new gcp.serviceaccount.IAMMember(
        `${name}-wi-${w.name}-binding`,
        {
          serviceAccountId: gsa.name,
          role: "roles/iam.workloadIdentityUser",
          member: workloadIdentityMember(project, w.namespace, w.name),
        },
        { ...o(`wi-${w.name}-binding`), dependsOn: args.dependsOn },
      );
      for (const access of w.access) {
        const bucket = bucketFor(a, access);
        if (!bucket) continue;
        new gcp.storage.BucketIAMMember(
          `${name}-wi-${w.name}-${access}`,
          { bucket, role: GKE_BUCKET_ROLES[access], member: gsa.member },
          o(`wi-${w.name}-${access}`),
        );
      }
      accounts.set(w.name, gsa);
    }
    this.accounts = accounts;
    this.lookup = identityLookup("GkeCluster.serviceAccountAnnotations", accounts);
    this.registerOutputs({});
  }
}
