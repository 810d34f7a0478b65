import { describe, expect, it } from "vitest";
import { kubernetesVersionSupported } from "../clusters/version-support";
import { eksCluster, find, run } from "./util";

describe("kubernetes-version-supported", () => {
    const on = (asOf: string, version: string, supportType?: string) => {
        const s = [eksCluster()];
        const c = find(s, "eks").props;
        c.version = version;
        if (supportType) c.upgradePolicy = { supportType };
        else delete c.upgradePolicy;
        return run(kubernetesVersionSupported, s, { "kubernetes-version-supported": { asOf } });
    };

    it("accepts 1.33 up to the day before its standard support ends (2026-07-29), as an advisory after", () => {
        expect(on("2026-07-28", "1.33")).toEqual([]);
        const [v, ...rest] = on("2026-07-29", "1.33");
        expect(rest).toEqual([]);
        expect(v.enforcement).toBe("advisory");
        expect(v.message).toMatch(/1\.33, out of standard support since 2026-07-29: it bills extended support/);
    });

    it("says what EKS does to a STANDARD cluster past its support", () => {
        expect(on("2026-12-02", "1.33", "STANDARD")[0].message).toMatch(/EKS upgrades the control plane to the next minor by itself/);
    });

    it("reads the minor of a patch version and accepts 1.35 on 2026-12-02", () => {
        expect(on("2026-12-02", "1.35")).toEqual([]);
        expect(on("2026-12-02", "1.35.3")).toEqual([]);
        expect(on("2027-03-27", "1.35")).toHaveLength(1);
    });
});
