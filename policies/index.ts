import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./src/policies";

// The policy objects carry a `meta` block for docs and the offline evaluator; the engine gets the standard fields only.
new PolicyPack("pitchey-containers", {
    description: "Security, reliability, cost and completeness guardrails for the pitchey-containers platform.",
    policies: allPolicies.map(({ meta: _meta, ...policy }) => policy),
});
