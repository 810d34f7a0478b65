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

export function parseQuantity(q: string): number {
  const m = QUANTITY_PATTERN.exec(q);
  if (!m) throw new Error(`not a Kubernetes quantity: ${q}`);
  return Number(m[1]) * SUFFIX[m[2] ?? ""];
}
