/**
 * Compares two plans' `resources.json`: which resources a change adds, removes or alters, and which it only moves
 * (a new URN whose `aliases` name the old one, so `pulumi up` keeps the resource). A refactor that should change
 * nothing shows no additions, removals or changed properties.
 */

/** A resource as `resources.json` records it. */
export interface PlanRecord {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string | null;
  readonly props: Record<string, unknown>;
  readonly aliases?: readonly string[];
}

export interface PropertyChange {
  /** Dotted path into `props`, e.g. `spec.template.spec.containers.0.image`. */
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface PlanDiff {
  /** Resources with a cloud or cluster counterpart that only the new plan declares. */
  readonly added: readonly string[];
  /** Components (`pitchey:*`) only the new plan declares: groupings with nothing to create. */
  readonly addedComponents: readonly string[];
  readonly removed: readonly string[];
  /** Same resource (by URN or alias) with different inputs. */
  readonly changed: readonly { readonly urn: string; readonly changes: readonly PropertyChange[] }[];
  /** Resources found under a new URN through an alias; their inputs are compared like any other. */
  readonly moved: readonly { readonly from: string; readonly to: string }[];
  /** Resources present in both with equal inputs (moved ones included). */
  readonly unchanged: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every leaf where `a` and `b` differ; arrays compare index by index. */
export function propertyChanges(a: unknown, b: unknown, path = ""): PropertyChange[] {
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: PropertyChange[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...propertyChanges(a[i], b[i], path ? `${path}.${i}` : String(i)));
    return out;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => propertyChanges(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: path || "(root)", before: a, after: b }];
}

/**
 * Compares plans. Parents are not compared directly: a moved resource's parent changes by definition, and what
 * matters to the engine is that the old URN is among the new resource's aliases.
 */
/** Our component resources: type tokens `pitchey:<module>:<Name>`, with no state of their own. */
export const isComponent = (r: PlanRecord) => r.type.startsWith("pitchey:");

export function diffPlans(before: readonly PlanRecord[], after: readonly PlanRecord[]): PlanDiff {
  const key = (r: PlanRecord) => r.urn || `${r.type}::${r.name}`;
  const old = new Map(before.map((r) => [key(r), r]));
  const matched = new Set<string>();
  const pairs: [PlanRecord, PlanRecord][] = [];
  const added: string[] = [];
  const addedComponents: string[] = [];
  const moved: { from: string; to: string }[] = [];
  for (const r of after) {
    const previousKey = [key(r), ...(r.aliases ?? [])].find((u) => old.has(u) && !matched.has(u));
    if (!previousKey) {
      (isComponent(r) ? addedComponents : added).push(key(r));
      continue;
    }
    matched.add(previousKey);
    if (previousKey !== key(r)) moved.push({ from: previousKey, to: key(r) });
    pairs.push([old.get(previousKey)!, r]);
  }
  // A moved resource keeps its cloud id and names, but the mock runtime derives them from the logical name
  // (components/testing/mocks.ts): references to a moved resource are compared as if made under its new name.
  const renames = new Map<string, string>();
  for (const [b, a] of pairs.filter(([b, a]) => b.name !== a.name)) {
    renames.set(`${b.type}::${b.name}-id`, `${a.type}::${a.name}-id`);
    if (b.type === "aws:iam/role:Role") {
      renames.set(b.name, a.name);
      renames.set(`arn:aws:iam::123456789012:role/${b.name}`, `arn:aws:iam::123456789012:role/${a.name}`);
    }
    if (b.type === "aws:kms/key:Key") renames.set(`${b.name}-key-id`, `${a.name}-key-id`);
  }
  const rename = (v: unknown): unknown => {
    if (typeof v === "string") return renames.get(v) ?? v;
    if (Array.isArray(v)) return v.map(rename);
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rename(x)]));
    return v;
  };
  const changed: { urn: string; changes: PropertyChange[] }[] = [];
  let unchanged = 0;
  for (const [b, a] of pairs) {
    const changes = propertyChanges(renames.size > 0 ? rename(b.props) : b.props, a.props);
    if (changes.length > 0) changed.push({ urn: key(a), changes });
    else unchanged++;
  }
  const removed = before.filter((r) => !matched.has(key(r))).map(key);
  return { added, addedComponents, removed, changed, moved, unchanged };
}

/**
 * True when the plans declare the same resources with the same inputs: moves through aliases and new components
 * (which group resources but create nothing) allowed.
 */
export const isSamePlan = (d: PlanDiff) => d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;

const show = (v: unknown) => (v === undefined ? "(unset)" : JSON.stringify(v).slice(0, 160));

/** A report a reviewer reads: counts first, then each difference. */
export function formatDiff(d: PlanDiff): string {
  const lines = [
    `${d.unchanged} unchanged (${d.moved.length} moved through aliases), ${d.changed.length} changed, ${d.added.length} added, ${d.removed.length} removed; ${d.addedComponents.length} new components`,
  ];
  for (const urn of d.addedComponents) lines.push(`  (component) ${urn}`);
  for (const urn of d.added) lines.push(`+ ${urn}`);
  for (const urn of d.removed) lines.push(`- ${urn}`);
  for (const c of d.changed) {
    lines.push(`~ ${c.urn}`);
    for (const p of c.changes) lines.push(`    ${p.path}: ${show(p.before)} -> ${show(p.after)}`);
  }
  return lines.join("\n");
}
