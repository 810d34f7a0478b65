import { arr, type Obj } from "../core/k8s";
import { configOf, resourcePolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";

const OPEN = new Set(["0.0.0.0/0", "::/0"]);
const HTTPS = 443;

export const GCP_FIREWALL = "gcp:compute/firewall:Firewall";
export const AWS_SG = "aws:ec2/securityGroup:SecurityGroup";
export const AWS_SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
export const AWS_SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";

function onlyHttps(protocol: unknown, from: unknown, to: unknown): boolean {
    return String(protocol).toLowerCase() === "tcp" || protocol === "6" ? from === HTTPS && (to === undefined || to === HTTPS) : false;
}

/** Whether a rule belongs to the load balancer: its name, description, target tags or security group say so. */
function forLoadBalancer(pattern: string, ...hints: unknown[]): boolean {
    const re = new RegExp(pattern, "i");
    return hints.flat().some((h) => typeof h === "string" && re.test(h));
}

export const noPublicIngress = resourcePolicy({
    name: "cloud-no-public-ingress",
    summary: "Firewalls and security groups must not accept ingress from 0.0.0.0/0 or ::/0, except HTTPS (tcp/443) to the load balancer.",
    enforcement: "mandatory",
    meta: {
        area: "network",
        source: "Checkov CKV_AWS_24/25/260, CKV_GCP_2/3/106; tfsec aws-ec2-no-public-ingress-sgr, google-compute-no-public-ingress; CIS AWS 5.2, CIS GCP 3.6/3.7",
        why: "The only thing the internet should reach is the load balancer's HTTPS listener; SSH, the API server and node ports open to the world are the usual entry points of cluster compromises.",
    },
    fix: "Narrow the source ranges (VPC CIDR, Cloudflare edge ranges, health-check ranges), or limit the open rule to tcp/443 on the load balancer's own group / target tags.",
    configSchema: schemaFor(["loadBalancerPattern"]),
    types: [GCP_FIREWALL, AWS_SG, AWS_SG_INGRESS, AWS_SG_RULE],
    validate: (args, report) => {
        const p = args.props;
        const cfg = configOf(args, { loadBalancerPattern: DEFAULTS.loadBalancerPattern as string });
        // Firewalls and groups identify themselves; a separate rule is the load balancer's only if its group is.
        const own = [args.name, p.name, p.description, p.tags ? Object.values(p.tags) : []];
        const lb = (...hints: unknown[]) => forLoadBalancer(cfg.loadBalancerPattern, ...(args.type === GCP_FIREWALL || args.type === AWS_SG ? own : []), ...hints);
        switch (args.type) {
            case GCP_FIREWALL: {
                if ((p.direction ?? "INGRESS") !== "INGRESS" || p.disabled === true) return;
                // With no source at all, GCP applies an ingress rule to 0.0.0.0/0.
                const noSource = arr(p.sourceRanges).length === 0 && arr(p.sourceTags).length === 0 && arr(p.sourceServiceAccounts).length === 0;
                if (!noSource && !arr<string>(p.sourceRanges).some((r) => OPEN.has(r))) return;
                for (const a of arr<Obj>(p.allows)) {
                    const ports = arr<string>(a.ports);
                    const httpsOnly = String(a.protocol).toLowerCase() === "tcp" && ports.length > 0 && ports.every((x) => String(x) === "443");
                    if (!httpsOnly) report(`Firewall ${p.name ?? args.name} allows ${a.protocol}${ports.length ? `:${ports.join(",")}` : " on all ports"} from the internet.`);
                    else if (!lb(p.targetTags, p.targetServiceAccounts)) report(`Firewall ${p.name ?? args.name} opens HTTPS to the internet on instances that are not the load balancer.`);
                }
                return;
            }
            case AWS_SG: {
                for (const rule of arr<Obj>(p.ingress)) {
                    const cidrs = [...arr<string>(rule.cidrBlocks), ...arr<string>(rule.ipv6CidrBlocks)];
                    if (!cidrs.some((c) => OPEN.has(c))) continue;
                    if (!onlyHttps(rule.protocol, rule.fromPort, rule.toPort)) report(`Security group ${p.name ?? args.name} allows ${rule.protocol} ${rule.fromPort}-${rule.toPort} from the internet.`);
                    else if (!lb(rule.description)) report(`Security group ${p.name ?? args.name} opens HTTPS to the internet but is not the load balancer's.`);
                }
                return;
            }
            case AWS_SG_INGRESS: {
                if (!OPEN.has(p.cidrIpv4) && !OPEN.has(p.cidrIpv6)) return;
                if (!onlyHttps(p.ipProtocol, p.fromPort, p.toPort)) report(`Security group ingress rule ${args.name} allows ${p.ipProtocol} ${p.fromPort ?? "all"}-${p.toPort ?? "all"} from the internet.`);
                else if (!lb(p.securityGroupId)) report(`Security group ingress rule ${args.name} opens HTTPS to the internet on a group that is not the load balancer's.`);
                return;
            }
            default: {
                if (p.type !== "ingress") return;
                const cidrs = [...arr<string>(p.cidrBlocks), ...arr<string>(p.ipv6CidrBlocks)];
                if (!cidrs.some((c) => OPEN.has(c))) return;
                if (!onlyHttps(p.protocol, p.fromPort, p.toPort)) report(`Security group rule ${args.name} allows ${p.protocol} ${p.fromPort}-${p.toPort} from the internet.`);
                else if (!lb(p.securityGroupId)) report(`Security group rule ${args.name} opens HTTPS to the internet on a group that is not the load balancer's.`);
            }
        }
    },
});

export const AWS_DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";

export const defaultSecurityGroupClosed = resourcePolicy({
    name: "aws-default-security-group-closed",
    summary: "A VPC's default security group must allow no traffic at all.",
    enforcement: "mandatory",
    meta: {
        area: "network",
        source: "CIS AWS Foundations 5.4; Checkov CKV2_AWS_12; AWS Foundational Security Best Practices EC2.2",
        why: "Anything launched without an explicit group lands in the default one; if it allows traffic, a forgotten resource is reachable.",
    },
    fix: "Manage the VPC's aws.ec2.DefaultSecurityGroup with empty ingress and egress.",
    types: [AWS_DEFAULT_SG],
    validate: (args, report) => {
        if (arr(args.props.ingress).length > 0) report(`Default security group ${args.name} has ingress rules.`);
        if (arr(args.props.egress).length > 0) report(`Default security group ${args.name} has egress rules.`);
    },
});
