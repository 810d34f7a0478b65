/** Kubernetes resource quantities ("500m", "2", "1.5Gi", "200G") as plain numbers. */
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

export const QUANTITY_PATTERN = /^(\d+(?:\.\d+)?)(n|u|m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/;

/** `NaN` for anything that is not a quantity, so callers can skip values a schema already refused. */
export function parseQuantity(q: unknown): number {
  if (typeof q === "number") return Number.isFinite(q) ? q : NaN;
  const m = typeof q === "string" ? QUANTITY_PATTERN.exec(q.trim()) : null;
  return m ? Number(m[1]) * SUFFIX[m[2] ?? ""] : NaN;
}
