import { describe, expect, it } from "vitest";
import { R2_PERMISSION_GROUPS, grantsAnnotation, r2BucketResource, r2SecretAccessKey, r2TokenPolicies } from "./credentials";

const account = "0123456789abcdef0123456789abcdef";

describe("R2 token policies", () => {
  it("scopes each access level to the named buckets only, never the account", () => {
    const policies = r2TokenPolicies(account, [
      { bucket: "pitchey-backups", access: "write" },
      { bucket: "pitchey-backups-dr", access: "read" },
    ]);
    expect(policies).toEqual([
      {
        effect: "allow",
        permissionGroups: [{ id: R2_PERMISSION_GROUPS.write }],
        resources: JSON.stringify({ [`com.cloudflare.edge.r2.bucket.${account}_default_pitchey-backups`]: "*" }),
      },
      {
        effect: "allow",
        permissionGroups: [{ id: R2_PERMISSION_GROUPS.read }],
        resources: JSON.stringify({ [`com.cloudflare.edge.r2.bucket.${account}_default_pitchey-backups-dr`]: "*" }),
      },
    ]);
    for (const p of policies) expect(p.resources).not.toContain("com.cloudflare.api.account");
  });

  it("uses Cloudflare's bucket-item permission groups, not the account-wide R2 ones", () => {
    expect(R2_PERMISSION_GROUPS).toEqual({ read: "6a018a9f2fc74eb6b293b0c548f38b39", write: "2efd5506f9c8494dacb1fa10a3e7d5b6" });
  });

  it("refuses a token without grants or with a name that is no bucket", () => {
    expect(() => r2TokenPolicies(account, [])).toThrow(/at least one/);
    expect(() => r2TokenPolicies(account, [{ bucket: "*", access: "read" }])).toThrow(/not an R2 bucket name/);
  });

  it("names a bucket as Cloudflare's token policies do", () => {
    expect(r2BucketResource(account, "b-1")).toBe(`com.cloudflare.edge.r2.bucket.${account}_default_b-1`);
    expect(grantsAnnotation([{ bucket: "a-b", access: "write" }, { bucket: "c-d", access: "read" }])).toBe("write:a-b,read:c-d");
  });
});

describe("R2 S3 key pair from a token", () => {
  it("derives the secret access key as the hex SHA-256 of the token value", () => {
    // FIPS 180-2 test vector.
    expect(r2SecretAccessKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
