/**
 * Names a cloud (or Cloudflare) keeps unique beyond one stack: in a project, an account, a region or a zone. Two
 * stacks that produce the same one collide on `pulumi up` (409, "already exists"), or worse, share the object.
 * Resources the engine names itself (a random suffix on the Pulumi name) are not listed: they cannot collide.
 */
export interface GlobalName {
  /** The resource type, shortened: `gcp:kms/keyRing`. */
  readonly kind: string;
  /** What the name must be unique in: project, project/location, account, zone. */
  readonly scope: string;
  readonly name: string;
  readonly urn: string;
}

type Props = Record<string, any>;
type Rule = (p: Props) => { scope: string; name: unknown } | undefined;

const project = (p: Props) => String(p.project ?? "default-project");
const inProject: (field: string) => Rule = (field) => (p) => ({ scope: project(p), name: p[field] });
const inLocation: (field: string) => Rule = (field) => (p) => ({ scope: `${project(p)}/${p.location ?? p.region ?? "default-location"}`, name: p[field] });
// The AWS account and region come from the provider; stacks of one project share both in the worst case.
const inAccount: (field: string) => Rule = (field) => (p) => (p[field] === undefined ? undefined : { scope: "aws-account", name: p[field] });

export const GLOBAL_NAME_RULES: Record<string, Rule> = {
  "gcp:serviceaccount/account:Account": inProject("accountId"),
  "gcp:kms/keyRing:KeyRing": inLocation("name"),
  "gcp:artifactregistry/repository:Repository": inLocation("repositoryId"),
  "gcp:container/cluster:Cluster": inLocation("name"),
  "gcp:compute/network:Network": inProject("name"),
  "gcp:compute/subnetwork:Subnetwork": inLocation("name"),
  "gcp:compute/router:Router": inLocation("name"),
  "gcp:compute/firewall:Firewall": inProject("name"),
  "gcp:projects/iAMCustomRole:IAMCustomRole": inProject("roleId"),
  "aws:eks/cluster:Cluster": inAccount("name"),
  "aws:ecr/repository:Repository": inAccount("name"),
  "aws:kms/alias:Alias": inAccount("name"),
  "aws:cloudwatch/logGroup:LogGroup": inAccount("name"),
  "aws:budgets/budget:Budget": inAccount("name"),
  "aws:iam/role:Role": inAccount("name"),
  // Bucket names are unique across every project and account of their cloud.
  "gcp:storage/bucket:Bucket": (p) => ({ scope: "gcs", name: p.name }),
  "aws:s3/bucket:Bucket": (p) => (p.bucket === undefined ? undefined : { scope: "s3", name: p.bucket }),
  "cloudflare:index/r2Bucket:R2Bucket": (p) => ({ scope: `cloudflare-account/${p.accountId}`, name: p.name }),
  "cloudflare:index/accountToken:AccountToken": (p) => ({ scope: `cloudflare-account/${p.accountId}`, name: p.name }),
  "cloudflare:index/dnsRecord:DnsRecord": (p) => ({ scope: `cloudflare-zone/${p.zoneId}`, name: `${p.type} ${p.name}` }),
};

/** Every global name a plan's records would create, by the rules above. */
export function globalNames(records: readonly { urn: string; type: string; props: Props }[]): GlobalName[] {
  const out: GlobalName[] = [];
  for (const r of records) {
    const rule = GLOBAL_NAME_RULES[r.type];
    const got = rule?.(r.props);
    if (!got || got.name === undefined || got.name === null) continue;
    out.push({ kind: r.type.replace(/:[A-Za-z]+$/, ""), scope: got.scope, name: String(got.name), urn: r.urn });
  }
  return out;
}

/** Names two plans would both create in the same scope. */
export function collisions(a: readonly GlobalName[], b: readonly GlobalName[]): string[] {
  const key = (n: GlobalName) => `${n.kind} ${n.scope} ${n.name}`;
  const theirs = new Set(b.map(key));
  return a.filter((n) => theirs.has(key(n))).map(key);
}
