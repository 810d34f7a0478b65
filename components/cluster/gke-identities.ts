import { createHash } from "node:crypto";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { movedFrom, type MovedFrom } from "../moved";
import { bucketFor, identityLookup, missingBucketGrants, type ResolvedCommonArgs } from "./args";

const ACCOUNT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/**
 * A GCP service account id for `role` in `cluster`: `<cluster>-<role>`, unique per cluster, so a second cluster in
 * the project does not collide with the first (ids are project-wide). GCP allows 6–30 characters of [a-z0-9-],
 * starting with a letter; a longer id keeps its first 23 characters and ends in 6 hex digits of a hash of the
 * whole, so two clusters whose names differ only past the cut still get different ids.
 */
export function gcpAccountId(cluster: string, role: string): string {
  const full = `${cluster}-${role}`;
  const id = full.length <= 30 ? full : `${full.slice(0, 23).replace(/-+$/, "")}-${createHash("sha256").update(full).digest("hex").slice(0, 6)}`;
  if (!ACCOUNT_ID.test(id)) {
    throw new Error(`service account id "${id}" (cluster "${cluster}", role "${role}") is not 6–30 characters of [a-z0-9-] starting with a letter`);
  }
  return id;
}

/** Why `gcpAccountId(cluster, role)` would fail, or undefined when it gives a valid id. */
export function accountIdProblem(cluster: string, role: string): string | undefined {
  try {
    gcpAccountId(cluster, role);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
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
  /** The cluster's name: every account id starts with it, so two clusters in one project never collide. Required. */
  readonly clusterName: string;
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
        { accountId: gcpAccountId(args.clusterName, w.name), project, displayName: `${args.clusterName} ${w.namespace}/${w.name} (Workload Identity)` },
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
