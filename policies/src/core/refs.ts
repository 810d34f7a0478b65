import type { PolicyResource } from "@pulumi/policy";

/**
 * The strings another resource may use to refer to `r`: its id as the engine or the offline plan's
 * mocks compute it (`<type>::<name>-id`, `<name>-id`), its logical name, and the physical names
 * given in its props (S3 `bucket`, GCS `name`, Kubernetes `metadata.name`, ARNs).
 */
export function refKeys(r: Pick<PolicyResource, "type" | "name" | "props">): Set<string> {
    const keys = new Set<string>([r.name, `${r.name}-id`, `${r.type}::${r.name}-id`, `${r.type}::${r.name}`]);
    const p = r.props ?? {};
    for (const k of ["id", "bucket", "name", "arn", "keyId", "bucketPrefix"]) {
        if (typeof p[k] === "string" && p[k] !== "") keys.add(p[k]);
    }
    if (typeof p.metadata?.name === "string") keys.add(p.metadata.name);
    if (typeof p.bucket === "string") keys.add(`arn:aws:s3:::${p.bucket}`);
    return keys;
}

/** Normalise a reference as it appears in props so that ARNs and mock ids compare to `refKeys`. */
export function refForms(v: unknown): string[] {
    if (typeof v !== "string" || v === "") return [];
    const forms = [v];
    const s3arn = /^arn:aws:s3:::([^/]+)$/.exec(v);
    if (s3arn) forms.push(s3arn[1]);
    const mock = /^(?:[^:]+:[^:]*:[^:]+::)?(.+?)(?:-id)?$/.exec(v);
    if (mock) forms.push(mock[1]);
    return forms;
}

export function refersTo(value: unknown, r: Pick<PolicyResource, "type" | "name" | "props">): boolean {
    const keys = refKeys(r);
    return refForms(value).some((f) => keys.has(f));
}
