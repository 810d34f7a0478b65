import { describe, expect, it } from "vitest";
import { parsePlatformConfig } from "./index";
import { problems, stackRaw } from "./test-support";

describe("cost config", () => {
  it("derives each processor's job-second price from its pool's price and requests unless set", () => {
    const prod = parsePlatformConfig(stackRaw("prod"));
    // document-processor: 500m / 1Gi on n2-standard-4 (3.72 CPU, 12.80 GiB after reservations) at $0.194236,
    // four jobs at once: (0.5 / 3.72) × 0.194236 / 3600 / 4.
    expect(prod.processors["document-processor"].costPerSecondUsd).toBeCloseTo(((0.5 / 3.72) * 0.194236) / 3600 / 4, 12);
    // ai-inference takes the whole GPU of a g2-standard-8 ($0.8537, L4 included), eight jobs at once.
    expect(prod.processors["ai-inference"].costPerSecondUsd).toBeCloseTo(0.8537 / 3600 / 8, 12);
    const raw = stackRaw("prod");
    raw.processors["ai-inference"] = { costPerSecondUsd: 0.001 };
    expect(parsePlatformConfig(raw).processors["ai-inference"].costPerSecondUsd).toBe(0.001);
  });

  it("prices dr's spot pool at its dearest instance type's spot price", () => {
    const dr = parsePlatformConfig(stackRaw("dr"));
    // video-processor: 2 CPU / 4Gi on the smallest shape of m6i/m6a/m5/m5a.xlarge, at the dearest spot price ($0.0856).
    expect(dr.processors["video-processor"].costPerSecondUsd).toBeGreaterThan(0);
    expect(dr.processors["video-processor"].costPerSecondUsd).toBeLessThan(0.0856 / 3600 / 2);
  });

  it("names every bad cost key at once", () => {
    const raw = stackRaw("prod");
    raw.cost = { monthlyBudgetUsd: 0, currency: "EUR", priceBookMaxAgeDays: 0, alertEmails: ["oncall"] };
    expect(problems(raw)).toEqual(
      expect.arrayContaining([
        "cost.monthlyBudgetUsd: expected a monthly budget > 0 (USD)",
        'cost.currency: the price book is priced in USD; got "EUR"',
        expect.stringMatching(/^cost\.priceBookMaxAgeDays: /),
        "cost.alertEmails.0: expected an email address",
      ]),
    );
  });

  it("needs a billing account for a GCP budget", () => {
    const raw = stackRaw("prod");
    delete raw.cost.billingAccount;
    expect(problems(raw)).toContain("cost.billingAccount: required on gcp when cost.monthlyBudgetUsd is set (the budget lives on the billing account)");
  });

  it("refuses a machine type, instance type, region or GPU the price book cannot price, naming the key", () => {
    const prod = stackRaw("prod");
    prod.cluster.nodePools = { gpu: { machineType: "n1-standard-8", gpuType: "nvidia-h100-80gb" } };
    expect(problems(prod)).toContain("cluster.nodePools.gpu.gpuType: the price book has no price for GPU nvidia-h100-80gb in gcp us-west1");
    const dr = stackRaw("dr");
    dr.cluster.nodePools = { ...dr.cluster.nodePools, spot: { ...(dr.cluster.nodePools?.spot ?? {}), instanceTypes: ["m6i.xlarge", "x9.huge"] } };
    expect(problems(dr)).toContain("cluster.nodePools.spot.instanceTypes.1: the price book has no price for x9.huge in aws eu-west-1; add it to components/cost/price-book.json");
    const elsewhere = stackRaw("dr");
    elsewhere.cluster.region = "ap-south-2";
    expect(problems(elsewhere)).toContain("cluster.region: the price book has no prices for aws ap-south-2; add them to components/cost/price-book.json");
  });
});
