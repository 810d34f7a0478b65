import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { parse } from "yaml";

/** The F5 NGINX Ingress Controller CRDs this program's route objects must satisfy (see crds/SOURCE.md). */
export const CRD_DIR = join(__dirname, "crds");

/**
 * `apiVersion/kind` → a validator for each served version of the vendored CRDs. The API server checks the same
 * structural schema; its CEL rules (`x-kubernetes-validations`) are not evaluated here.
 */
export function crdValidators(dir = CRD_DIR): Map<string, ValidateFunction> {
  const cached = crdValidators_.get(dir);
  if (cached) return cached;
  // Kubernetes string formats (byte, date-time, int-or-string) are the API server's to check; Ajv would only warn.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const out = new Map<string, ValidateFunction>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml"))) {
    const crd = parse(readFileSync(join(dir, file), "utf8")) as {
      spec: { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema: { openAPIV3Schema: object } }[] };
    };
    for (const v of crd.spec.versions.filter((x) => x.served)) {
      out.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(strict(v.schema.openAPIV3Schema) as object));
    }
  }
  crdValidators_.set(dir, out);
  return out;
}
/** Compiled validators per directory of vendored CRDs (each directory is read once). */
const crdValidators_ = new Map<string, Map<string, ValidateFunction>>();

/**
 * The API server prunes fields a structural schema does not declare, silently; strict field validation (what
 * `kubectl --validate=strict` asks for) rejects them. A misspelt field must fail here, so every object schema that
 * lists its properties and does not preserve unknown fields admits no others.
 */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as object).map(([p, sub]) => [p, strict(sub)])) : strict(v);
  if (out.properties && out.additionalProperties === undefined && !out["x-kubernetes-preserve-unknown-fields"]) out.additionalProperties = false;
  return out;
}

/** Checks an object against its vendored CRD schema; `undefined` when no vendored CRD defines its kind. */
export function validateAgainstCrd(obj: { apiVersion?: string; kind?: string }, dir = CRD_DIR): string[] | undefined {
  const validate = crdValidators(dir).get(`${obj.apiVersion}/${obj.kind}`);
  if (!validate) return undefined;
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? "invalid"}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`);
}

