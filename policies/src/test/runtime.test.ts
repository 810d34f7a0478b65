import { describe, expect, it } from "vitest";
import { asOfDay, imageRuntimeSupported } from "../supply-chain/runtime";
import { find, imageBuild, run } from "./util";

const NODE_20 = "node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0";

describe("image-runtime-supported", () => {
    const on = (asOf: string, image: string, extra: Record<string, string> = {}) => {
        const s = [imageBuild("ai-inference")];
        find(s, "ai-inference-image").props.buildArgs = { PROCESSOR: "ai-inference", NODE_IMAGE: image, ...extra };
        return run(imageRuntimeSupported, s, { "image-runtime-supported": { asOf } });
    };

    it("accepts Node.js 20 up to the day before its end of life and refuses it from that day", () => {
        expect(on("2026-04-29", NODE_20)).toEqual([]);
        const [v, ...rest] = on("2026-04-30", NODE_20);
        expect(rest).toEqual([]);
        expect(v.message).toContain("Node.js 20 reached end of life on 2026-04-30");
        expect(v.enforcement).toBe("mandatory");
    });

    it("reads the runtime from the build arguments, not from other base images", () => {
        expect(on("2026-12-02", "node:24.18.0-bookworm-slim", { CUDA_IMAGE: "nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04" })).toEqual([]);
    });

    it("judges on the day the plan runs unless told otherwise", () => {
        expect(asOfDay("").getTime()).toBeGreaterThan(Date.parse("2026-01-01"));
        expect(asOfDay("2026-04-30").toISOString()).toBe("2026-04-30T00:00:00.000Z");
        expect(() => asOfDay("30/04/2026")).toThrow(/not an ISO date/);
    });
});
