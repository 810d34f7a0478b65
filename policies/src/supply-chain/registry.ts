import type { PolicyResource } from "@pulumi/policy";
import { arr, T, type Obj } from "../core/k8s";
import { configOf, resourcePolicy, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";
import { refersTo } from "../core/refs";

export const ECR_REPO = "aws:ecr/repository:Repository";
export const ECR_LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy";
export const AR_REPO = "gcp:artifactregistry/repository:Repository";

function isDockerAr(p: Obj): boolean {
    return String(p.format ?? "DOCKER").toUpperCase() === "DOCKER";
}

export const registryScanOnPush = resourcePolicy({
    name: "registry-scan-on-push",
    summary: "Container registries must scan images on push (ECR scanOnPush; Artifact Registry scanning not disabled).",
    enforcement: "mandatory",
    meta: {
        area: "supply-chain",
        source: "Checkov CKV_AWS_163; tfsec aws-ecr-enable-image-scans; Artifact Registry vulnerability scanning guidance",
        why: "Every processor image bundles ffmpeg, document and ML libraries with frequent CVEs; scanning at push is the gate before deploy.",
    },
    fix: "ECR: imageScanningConfiguration { scanOnPush: true }. Artifact Registry: vulnerabilityScanningConfig.enablementConfig INHERITED (with the Container Scanning API on).",
    types: [ECR_REPO, AR_REPO],
    validate: (args, report) => {
        const p = args.props;
        if (args.type === ECR_REPO) {
            if (p.imageScanningConfiguration?.scanOnPush !== true) report(`ECR repository ${p.name ?? args.name} does not scan on push.`);
            return;
        }
        if (!isDockerAr(p)) args.notApplicable("not a Docker repository");
        if (p.vulnerabilityScanningConfig?.enablementConfig === "DISABLED") report(`Artifact Registry repository ${p.repositoryId ?? args.name} disables vulnerability scanning.`);
    },
});

export const registryImmutableTags = resourcePolicy({
    name: "registry-immutable-tags",
    summary: "Container registries must make image tags immutable.",
    enforcement: "mandatory",
    meta: {
        area: "supply-chain",
        source: "Checkov CKV_AWS_51; tfsec aws-ecr-enforce-immutable-repository; Artifact Registry docker immutable tags",
        why: "A mutable tag can be re-pointed at an unscanned image; immutability makes a tag mean one digest forever.",
    },
    fix: "ECR: imageTagMutability IMMUTABLE. Artifact Registry: dockerConfig { immutableTags: true }.",
    types: [ECR_REPO, AR_REPO],
    validate: (args, report) => {
        const p = args.props;
        if (args.type === ECR_REPO) {
            if (!String(p.imageTagMutability ?? "MUTABLE").startsWith("IMMUTABLE")) report(`ECR repository ${p.name ?? args.name} has mutable tags.`);
            return;
        }
        if (!isDockerAr(p)) args.notApplicable("not a Docker repository");
        if (p.dockerConfig?.immutableTags !== true) report(`Artifact Registry repository ${p.repositoryId ?? args.name} has mutable tags.`);
    },
});

function parseJson(v: unknown): Obj | undefined {
    if (typeof v === "object" && v !== null) return v as Obj;
    if (typeof v !== "string") return undefined;
    try {
        return JSON.parse(v) as Obj;
    } catch {
        return undefined;
    }
}

function ecrExpiresUntagged(lp: PolicyResource, maxDays: number): boolean {
    return arr<Obj>(parseJson(lp.props.policy)?.rules).some((r) =>
        r.selection?.tagStatus === "untagged" && r.selection?.countType === "sinceImagePushed" && typeof r.selection?.countNumber === "number" && r.selection.countNumber <= maxDays && r.action?.type === "expire");
}

function durationDays(v: unknown): number | undefined {
    if (typeof v !== "string") return undefined;
    const m = /^(\d+(?:\.\d+)?)s$/.exec(v);
    return m ? Number(m[1]) / 86400 : undefined;
}

export const registryUntaggedExpiry = stackPolicy({
    name: "registry-untagged-image-expiry",
    summary: "Every registry must expire untagged images within the playbook's window (7 days).",
    enforcement: "advisory",
    meta: {
        area: "supply-chain",
        source: "Operations playbook (container images: untagged 7 days); AWS ECR lifecycle policy guidance; Artifact Registry cleanup policies",
        why: "Every build pushes layers; untagged leftovers cost storage and keep vulnerable images pullable. Advisory: storage cost, not exposure.",
    },
    fix: "ECR: add an aws.ecr.LifecyclePolicy expiring tagStatus untagged sinceImagePushed ≤ 7 days. Artifact Registry: a cleanupPolicies DELETE rule for UNTAGGED olderThan ≤ 604800s.",
    configSchema: schemaFor(["untaggedImageMaxDays"]),
    validate: (args, report) => {
        const cfg = configOf(args, { untaggedImageMaxDays: DEFAULTS.untaggedImageMaxDays as number });
        for (const repo of args.resources.filter((r) => r.type === ECR_REPO)) {
            const lps = args.resources.filter((r) => r.type === ECR_LIFECYCLE && refersTo(r.props.repository, repo));
            if (!lps.some((lp) => ecrExpiresUntagged(lp, cfg.untaggedImageMaxDays))) report(`ECR repository ${repo.props.name ?? repo.name} does not expire untagged images within ${cfg.untaggedImageMaxDays} days.`, repo.urn);
        }
        for (const repo of args.resources.filter((r) => r.type === AR_REPO && isDockerAr(r.props))) {
            const ok = arr<Obj>(repo.props.cleanupPolicies).some((c) => c.action === "DELETE" && c.condition?.tagState === "UNTAGGED" && (durationDays(c.condition?.olderThan) ?? Infinity) <= cfg.untaggedImageMaxDays);
            if (!ok || repo.props.cleanupPolicyDryRun === true) report(`Artifact Registry repository ${repo.props.repositoryId ?? repo.name} does not delete untagged images within ${cfg.untaggedImageMaxDays} days.`, repo.urn);
        }
    },
});

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;

export const helmChartPinned = resourcePolicy({
    name: "helm-chart-version-pinned",
    summary: "Helm releases must pin an exact chart version.",
    enforcement: "mandatory",
    meta: {
        area: "supply-chain",
        source: "Helm best practices (reproducible installs); cdk-eks-blueprints pinned add-on versions",
        why: "Without a version every preview can install a new chart release with new images and defaults, so the reviewed plan is not what gets deployed.",
    },
    fix: "Set version to an exact chart version (e.g. \"4.11.3\") from the versions module.",
    types: [T.HelmRelease, T.HelmChart, "kubernetes:helm.sh/v3:Chart"],
    validate: (args, report) => {
        const v = args.props.version;
        const chart = args.props.chart ?? args.name;
        if (typeof v !== "string" || v === "") report(`Helm release ${args.name} (chart ${chart}) does not pin a chart version.`);
        else if (!EXACT_VERSION.test(v)) report(`Helm release ${args.name} (chart ${chart}) uses version range "${v}" instead of an exact version.`);
    },
});

export const DOCKER_BUILD_IMAGE = "docker-build:index:Image";

export const imageBuildTags = resourcePolicy({
    name: "image-build-content-tags",
    summary: "Images built by the program must be pushed under explicit, non-latest tags.",
    enforcement: "mandatory",
    meta: {
        area: "supply-chain",
        source: "docs/decisions.md #5 (content-hash tags, deploy by digest); Docker / Artifact Registry / ECR tagging guidance",
        why: "The registries refuse tag overwrites, so a moving tag such as latest fails the second push and blocks every deploy after the first; a content tag also says which source an image came from.",
    },
    fix: "Tag the image with the source hash (e.g. <repo>:src-<hash>) and deploy its digest.",
    types: [DOCKER_BUILD_IMAGE],
    validate: (args, report) => {
        if (args.props.push !== true) args.notApplicable("the image is not pushed");
        const tags = arr<string>(args.props.tags);
        if (tags.length === 0) report(`Image ${args.name} is pushed without a tag.`);
        for (const t of tags) {
            const last = String(t).split("/").pop() ?? "";
            if (!last.includes(":") || last.endsWith(":latest")) report(`Image ${args.name} is pushed as ${t}, a moving tag.`);
        }
    },
});

export const imageNotBuiltOnPreview = resourcePolicy({
    name: "image-build-not-on-preview",
    summary: "Images built by the program must not be built during `pulumi preview` (docker-build buildOnPreview: false).",
    enforcement: "mandatory",
    meta: {
        area: "supply-chain",
        source: "@pulumi/docker-build Image.buildOnPreview (default true); docs/decisions.md #5",
        why: "Every preview (each pull request, each policy run) would otherwise build every image, the multi-GB CUDA one included; the tag already shows on preview whether an image changes.",
    },
    fix: "Set buildOnPreview: false on the docker-build Image.",
    types: [DOCKER_BUILD_IMAGE],
    validate: (args, report) => {
        if (args.props.buildOnPreview !== false) report(`Image ${args.name} is built on every preview (buildOnPreview is ${args.props.buildOnPreview ?? "unset, default true"}).`);
    },
});
