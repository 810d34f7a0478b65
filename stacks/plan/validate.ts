/**
 * Validates rendered manifests against the Kubernetes (KEDA, Prometheus Operator, cert-manager) OpenAPI schemas shipped
 * by kubernetes-models, the database operator's and GKE's ComputeClass custom resources against the schemas of the
 * fields the program sets,
 * the F5 NGINX Ingress Controller's own CRD schemas (vendored in components/ingress/crds) and Velero's Schedule and
 * BackupStorageLocation CRD schemas (vendored in components/backup/velero-crds).
 */
import type { z } from "zod";
import { VELERO_CRD_DIR } from "../../components/backup/velero-builders";
import { COMPUTE_CLASS_SCHEMA } from "../../components/cluster/compute-class";
import { DATABASE_SCHEMAS } from "../../components/database/schemas";
import { validateAgainstCrd } from "../../components/ingress/crd-schema";

type ModelClass = new (data: unknown) => { validate(): void };
type Namespace = Record<string, Record<string, Record<string, ModelClass>>>;

let registry: Namespace[] | undefined;

const CUSTOM_SCHEMAS: Record<string, z.ZodType> = { ...DATABASE_SCHEMAS, "cloud.google.com/v1/ComputeClass": COMPUTE_CLASS_SCHEMA };

async function load(): Promise<Namespace[]> {
  registry ??= [
    (await import("kubernetes-models")) as unknown as Namespace,
    (await import("@kubernetes-models/keda")) as unknown as Namespace,
    (await import("@kubernetes-models/prometheus-operator")) as unknown as Namespace,
    (await import("@kubernetes-models/cert-manager")) as unknown as Namespace,
  ];
  return registry;
}

/** `networking.k8s.io/v1` → [`networkingK8sIo`, `v1`]; `v1` → [`v1`, `v1`] (the core group). */
function groupKey(apiVersion: string): [string, string] {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (!group) return ["v1", version];
  const key = group.replace(/[.-]([a-z])/g, (_m, c: string) => c.toUpperCase());
  return [key, version];
}

export interface ManifestCheck {
  /** `undefined` when the kind has no schema here (such kinds must come from typed builders). */
  errors: string[] | undefined;
}

export async function validateManifest(obj: { apiVersion?: string; kind?: string }): Promise<ManifestCheck> {
  if (!obj.apiVersion || !obj.kind) return { errors: ["missing apiVersion or kind"] };
  const custom = CUSTOM_SCHEMAS[`${obj.apiVersion}/${obj.kind}`];
  if (custom) {
    const r = custom.safeParse(obj);
    return { errors: r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) };
  }
  const crd = validateAgainstCrd(obj) ?? validateAgainstCrd(obj, VELERO_CRD_DIR);
  if (crd) return { errors: crd };
  const [group, version] = groupKey(obj.apiVersion);
  for (const ns of await load()) {
    const Model = group === "v1" ? (ns.v1 as unknown as Record<string, ModelClass> | undefined)?.[obj.kind] : ns[group]?.[version]?.[obj.kind];
    if (!Model) continue;
    try {
      new Model(obj).validate();
      return { errors: [] };
    } catch (e) {
      return { errors: [(e as Error).message] };
    }
  }
  return { errors: undefined };
}
