import { find, type Case } from "../util";

const VS = "job-api";

export const edgeCases: Record<string, Case[]> = {
    "k8s-single-loadbalancer": [
        {
            name: "a second Service is a LoadBalancer, even with source ranges",
            culprit: "media-transcoder-svc",
            mutate: (s) => void Object.assign(find(s, "media-transcoder-svc").props.spec, { type: "LoadBalancer", loadBalancerSourceRanges: ["173.245.48.0/20"] }),
        },
        { name: "the controller's LoadBalancer has no source ranges", culprit: "ingress-nginx-controller", mutate: (s) => void delete find(s, "ingress-nginx-controller").props.spec.loadBalancerSourceRanges },
        {
            name: "the ingress chart creates its own LoadBalancer as well",
            culprit: "ingress-nginx",
            mutate: (s) => void (find(s, "ingress-nginx").props.values = { controller: { service: { loadBalancerSourceRanges: ["173.245.48.0/20"] } } }),
        },
    ],
    "nginx-route-rate-limited": [
        { name: "a processor route has no policies", culprit: VS, mutate: (s) => void delete find(s, VS).props.spec.routes[1].policies },
        {
            name: "the route's Policy is not a rate limit",
            culprit: VS,
            mutate: (s) => void (find(s, "video-processor-per-ip").props.spec = { accessControl: { allow: ["10.0.0.0/8"] } }),
        },
        { name: "the route names a Policy that does not exist", culprit: VS, mutate: (s) => void (find(s, VS).props.spec.routes[2].policies = [{ name: "missing" }]) },
    ],
    "api-route-requires-auth": [
        { name: "a processor route forwards requests without a credential", culprit: VS, mutate: (s) => void delete find(s, VS).props.spec.routes[1].matches },
        {
            name: "the edge's check answers something other than 401",
            culprit: VS,
            mutate: (s) => void (find(s, VS).props.spec.routes[2].matches[0].action = { return: { code: 200, body: "ok" } }),
        },
        {
            name: "the processor behind a public route runs with authentication disabled",
            culprit: "video-processor",
            mutate: (s) => void (find(s, "video-processor").props.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === "API_AUTH").value = "disabled"),
        },
    ],
    "cloudflare-lb-monitor-and-fallback": [
        { name: "the load balancer has no fallback pool", culprit: "edge-load-balancer", mutate: (s) => void delete find(s, "edge-load-balancer").props.fallbackPool },
        { name: "a pool has no monitor", culprit: "edge-load-balancer", mutate: (s) => void delete find(s, "edge-standby-pool").props.monitor },
    ],
};
