import { z } from "zod";
import bookData from "./price-book.json";

/**
 * The price book: list prices for everything the stacks can declare, each with where it came from and when.
 * It is data (price-book.json); this module checks it and answers lookups. A missing price is an error, never zero.
 */

const isoDate = z.iso.date("expected a date such as 2026-12-02");
const source = z.string().min(8, "expected the page the figure was taken from");
const price = z.number().nonnegative("expected a price ≥ 0");
const cloud = z.enum(["gcp", "aws", "cloudflare"]);

const provenance = { source, takenOn: isoDate };

const machine = z.strictObject({
  cloud,
  region: z.string().min(1),
  type: z.string().min(1),
  vcpu: z.number().positive(),
  memoryGiB: z.number().positive(),
  /** Accelerators included in the machine's price (G2 on GCP, G6 on AWS). */
  gpu: z.strictObject({ type: z.string().min(1), count: z.number().int().positive() }).optional(),
  onDemandHourly: price,
  spotHourly: price,
  ...provenance,
});

const gpu = z.strictObject({ cloud, region: z.string().min(1), type: z.string().min(1), onDemandHourly: price, spotHourly: price, ...provenance });
const disk = z.strictObject({ cloud, region: z.string().min(1), type: z.string().min(1), perGbMonth: price, ...provenance });
const service = z.strictObject({ cloud, region: z.string().min(1), service: z.string().min(1), unit: z.string().min(1), price, ...provenance });
const support = z.strictObject({ cloud, version: z.string().regex(/^\d+\.\d+$/), standardSupportEnds: isoDate, ...provenance });
const assumption = z.strictObject({ key: z.string().min(1), value: z.number().nonnegative(), basis: z.string().min(8, "expected the reason for the figure") });

export const priceBookSchema = z.strictObject({
  currency: z.literal("USD", { error: "the price book is priced in USD" }),
  hoursPerMonth: z.number().positive(),
  machines: z.array(machine).min(1),
  gpus: z.array(gpu),
  disks: z.array(disk),
  services: z.array(service),
  kubernetesSupport: z.array(support),
  assumptions: z.array(assumption),
});

export type PriceBookData = z.infer<typeof priceBookSchema>;
export type Cloud = z.infer<typeof cloud>;
export type MachinePrice = z.infer<typeof machine>;

export class PriceBookError extends Error {
  override readonly name = "PriceBookError";
}

/** Names an entry the way a reader finds it in price-book.json: `machines[3] (gcp us-west1 n2-standard-4)`. */
function entryLabel(data: unknown, path: readonly PropertyKey[]): string {
  const [section, index] = path;
  const base = path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
  if (typeof section !== "string" || typeof index !== "number") return base;
  const entry = (data as Record<string, unknown[]>)?.[section]?.[index] as Record<string, unknown> | undefined;
  const id = entry && [entry.cloud, entry.region, entry.type ?? entry.service ?? entry.version ?? entry.key].filter(Boolean).join(" ");
  return id ? `${base} (${id})` : base;
}

/** Checks a price book, every problem at once, each naming its entry and field. */
export function parsePriceBook(data: unknown): PriceBook {
  const parsed = priceBookSchema.safeParse(data);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${entryLabel(data, i.path)}: ${i.message}`);
    throw new PriceBookError(`invalid price book (${lines.length} problem${lines.length === 1 ? "" : "s"}):\n${lines.join("\n")}`);
  }
  return new PriceBook(parsed.data);
}

const matches = (e: { cloud: string; region: string }, c: string, region: string) => e.cloud === c && (e.region === region || e.region === "*");

export class PriceBook {
  constructor(readonly data: PriceBookData) {}

  get hoursPerMonth(): number {
    return this.data.hoursPerMonth;
  }

  machine(c: Cloud, region: string, type: string): MachinePrice | undefined {
    return this.data.machines.find((m) => matches(m, c, region) && m.type === type);
  }

  gpu(c: Cloud, region: string, type: string) {
    return this.data.gpus.find((g) => matches(g, c, region) && g.type === type);
  }

  disk(c: Cloud, region: string, type: string) {
    return this.data.disks.find((d) => matches(d, c, region) && d.type === type);
  }

  service(c: Cloud, region: string, name: string) {
    return this.data.services.find((s) => matches(s, c, region) && s.service === name);
  }

  /** The date a cloud's Kubernetes minor version leaves standard support, when the book knows it. */
  standardSupportEnds(c: Cloud, version: string): string | undefined {
    const minor = /^(\d+\.\d+)/.exec(version)?.[1];
    return this.data.kubernetesSupport.find((s) => s.cloud === c && s.version === minor)?.standardSupportEnds;
  }

  assumption(key: string): number {
    const a = this.data.assumptions.find((x) => x.key === key);
    if (!a) throw new PriceBookError(`price book: no assumption "${key}"`);
    return a.value;
  }

  /** The oldest `takenOn` in the book: its age is the age of its stalest figure. */
  oldestEntry(): string {
    const dates = [...this.data.machines, ...this.data.gpus, ...this.data.disks, ...this.data.services, ...this.data.kubernetesSupport].map((e) => e.takenOn);
    return dates.sort()[0];
  }

  /** Days between the book's oldest figure and `today`. */
  ageDays(today: Date): number {
    return Math.floor((today.getTime() - Date.parse(`${this.oldestEntry()}T00:00:00Z`)) / 86_400_000);
  }
}

let book: PriceBook | undefined;

/** The repository's price book, checked once. */
export function priceBook(): PriceBook {
  book ??= parsePriceBook(bookData);
  return book;
}
