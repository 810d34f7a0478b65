import { createHash } from "node:crypto";
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * Cloudflare's permission groups for R2 objects in named buckets. R2 scopes a token to whole buckets, never to a
 * prefix, so each use that must not touch another's objects needs a bucket of its own.
 */
export const R2_PERMISSION_GROUPS = {
  /** "Workers R2 Storage Bucket Item Read": read and list objects. */
  read: "6a018a9f2fc74eb6b293b0c548f38b39",
  /** "Workers R2 Storage Bucket Item Write": read, list, write and delete objects. */
  write: "2efd5506f9c8494dacb1fa10a3e7d5b6",
} as const;

export type R2Access = keyof typeof R2_PERMISSION_GROUPS;

export interface R2Grant {
  readonly bucket: string;
  readonly access: R2Access;
}

/** Annotation on a credential's Secret stating what its token may do, so policies can judge where it is mounted. */
export const OBJECT_STORE_GRANTS_ANNOTATION = "pitchey.io/object-store-grants";

/** A bucket outside any jurisdiction, as a token policy names it. */
export const r2BucketResource = (accountId: string, bucket: string) => `com.cloudflare.edge.r2.bucket.${accountId}_default_${bucket}`;

/** One token policy per access level, each naming only the buckets granted at that level. */
export function r2TokenPolicies(accountId: string, grants: readonly R2Grant[]): cloudflare.types.input.AccountTokenPolicy[] {
  if (grants.length === 0) throw new Error("an R2 token needs at least one bucket grant");
  const byAccess = new Map<R2Access, Set<string>>();
  for (const g of grants) {
    if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(g.bucket)) throw new Error(`${JSON.stringify(g.bucket)} is not an R2 bucket name`);
    byAccess.set(g.access, (byAccess.get(g.access) ?? new Set()).add(g.bucket));
  }
  return [...byAccess].map(([access, buckets]) => ({
    effect: "allow",
    permissionGroups: [{ id: R2_PERMISSION_GROUPS[access] }],
    resources: JSON.stringify(Object.fromEntries([...buckets].sort().map((b) => [r2BucketResource(accountId, b), "*"]))),
  }));
}

/** `write:a,read:b`: the annotation's value. */
export const grantsAnnotation = (grants: readonly R2Grant[]) => grants.map((g) => `${g.access}:${g.bucket}`).join(",");

/** R2's S3 secret access key for a token: the SHA-256 of the token's value, in hex (its access key id is the token's id). */
export const r2SecretAccessKey = (tokenValue: string) => createHash("sha256").update(tokenValue).digest("hex");

export interface R2CredentialArgs {
  /** Cloudflare account owning the buckets. */
  readonly accountId: string;
  /** The token's name in Cloudflare's dashboard; unique per stack so two stacks never share one. */
  readonly tokenName: string;
  /** What the token may do, bucket by bucket. */
  readonly grants: pulumi.Input<readonly R2Grant[]>;
  /** A Kubernetes Secret carrying the S3 key pair as `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`; none when unset. */
  readonly secret?: { readonly name: string; readonly namespace: pulumi.Input<string>; readonly labels: Record<string, string> };
}

/**
 * A least-privilege R2 credential minted by the program: an account-owned API token limited to the granted buckets,
 * and the S3 key pair derived from it. The token the Cloudflare provider runs with mints it; nobody copies a key.
 */
export class R2Credential extends pulumi.ComponentResource {
  readonly accessKeyId: pulumi.Output<string>;
  readonly secretAccessKey: pulumi.Output<string>;
  readonly secret?: k8s.core.v1.Secret;

  constructor(name: string, args: R2CredentialArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:backup:R2Credential", name, {}, opts);
    const grants = pulumi.output(args.grants);
    const token = new cloudflare.AccountToken(
      `${name}-token`,
      { accountId: args.accountId, name: args.tokenName, policies: grants.apply((g) => r2TokenPolicies(args.accountId, g)) },
      { parent: this },
    );
    this.accessKeyId = token.id;
    this.secretAccessKey = pulumi.secret(token.value.apply(r2SecretAccessKey));
    if (args.secret) {
      this.secret = new k8s.core.v1.Secret(
        `${name}-secret`,
        {
          metadata: {
            name: args.secret.name,
            namespace: args.secret.namespace,
            labels: args.secret.labels,
            annotations: grants.apply((g) => ({ [OBJECT_STORE_GRANTS_ANNOTATION]: grantsAnnotation(g) })),
          },
          type: "Opaque",
          stringData: { AWS_ACCESS_KEY_ID: pulumi.secret(this.accessKeyId), AWS_SECRET_ACCESS_KEY: this.secretAccessKey },
        },
        { parent: this },
      );
    }
    this.registerOutputs({ accessKeyId: this.accessKeyId });
  }
}
