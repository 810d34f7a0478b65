/** Kubernetes resource quantities ("500m", "2", "4Gi", "512Mi") as plain numbers, for cross-field checks. */
const SUFFIX: Record<string, number> = {
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

export const QUANTITY_PATTERN = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

/** `NaN` for anything that is not a quantity, so cross-field checks skip values the schema already refused. */
export function parseQuantity(q: unknown): number {
  const m = typeof q === "string" ? QUANTITY_PATTERN.exec(q) : null;
  return m ? Number(m[1]) * SUFFIX[m[2] ?? ""] : NaN;
}
