import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { IMAGES } from "../versions";

/** Paths under the build context that never enter an image. */
const IGNORED = new Set(["node_modules", "dist", ".pgdata", "coverage"]);

/** A content hash of the build context (one of the inputs of `imageTag`). */
export function contextHash(dir: string): string {
  const hash = createHash("sha256");
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      if (IGNORED.has(entry)) continue;
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(relative(dir, path)).update("\0").update(readFileSync(path)).update("\0");
    }
  };
  walk(dir);
  return hash.digest("hex").slice(0, 16);
}

/** Everything that decides an image's bytes: a change to any of them must give a new tag. */
export interface BuildInputs {
  /** Build context directory. */
  readonly context: string;
  /** Dockerfile path (it may live outside the context). */
  readonly dockerfile: string;
  readonly target: string;
  readonly platforms: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
}

/**
 * The image tag: a hash over the context's content, the Dockerfile's content, the target, the platforms and the
 * build arguments. The registries refuse to overwrite a tag, so any change to what is built must change the tag;
 * the same inputs give the same tag, and nothing is rebuilt.
 */
export function imageTag(inputs: BuildInputs): string {
  const hash = createHash("sha256");
  const field = (name: string, value: string) => hash.update(name).update("\0").update(value).update("\0");
  field("context", contextHash(inputs.context));
  field("dockerfile", createHash("sha256").update(readFileSync(inputs.dockerfile)).digest("hex"));
  field("target", inputs.target);
  field("platforms", [...inputs.platforms].sort().join(","));
  for (const [k, v] of Object.entries(inputs.buildArgs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) field(`arg:${k}`, v);
  return `b-${hash.digest("hex").slice(0, 20)}`;
}

/** The target whose base is the CUDA runtime (with node copied in) rather than the Node image alone. */
const CUDA_TARGETS = new Set(["ai-inference"]);

/**
 * Build arguments of a target: which processor the image is for, and the base images it is built from, so the plan
 * (and the policies reading it) shows the runtime each image ships. CUDA's base goes only to the target using it:
 * a build argument is part of the tag, and the other images need not be rebuilt when it moves.
 */
export const buildArgsFor = (target: string): Record<string, string> => ({
  PROCESSOR: target,
  NODE_IMAGE: IMAGES.node,
  ...(CUDA_TARGETS.has(target) ? { CUDA_IMAGE: IMAGES.cuda } : {}),
});

export interface WorkerImageArgs {
  /** Dockerfile target: a processor's name, or `db-backup`. */
  readonly target: string;
  /** Build context directory. */
  readonly context: string;
  readonly dockerfile: string;
  /** Repository without tag, from the cluster's registry. */
  readonly repository: pulumi.Input<string>;
  readonly registryAuth: pulumi.Input<{ address: string; username: string; password: string }>;
  readonly platforms: readonly ("linux/amd64" | "linux/arm64")[];
  /** Push to the registry. Default: true. */
  readonly push: boolean;
}

/** The docker-build Image's inputs; the tag is `imageTag` of exactly the inputs passed here. */
export function imageBuildArgs(args: WorkerImageArgs, repository: pulumi.Input<string>) {
  const buildArgs = buildArgsFor(args.target);
  const tag = imageTag({ context: args.context, dockerfile: args.dockerfile, target: args.target, platforms: args.platforms, buildArgs });
  return {
    context: { location: args.context },
    dockerfile: { location: args.dockerfile },
    target: args.target,
    platforms: [...args.platforms],
    push: args.push,
    tags: [pulumi.interpolate`${repository}:${tag}`],
    registries: [pulumi.output(args.registryAuth)],
    buildArgs,
    // A preview shows the new tag; building (the CUDA image included) waits for `pulumi up`.
    buildOnPreview: false,
  };
}

/** An image built from a target of `images/Dockerfile` and pushed; consumers take `ref`, which is by digest. */
export class WorkerImage extends pulumi.ComponentResource {
  readonly image: dockerBuild.Image;
  /** `repository@sha256:…` */
  readonly ref: pulumi.Output<string>;

  constructor(name: string, args: WorkerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:images:WorkerImage", name, {}, opts);
    const repo = pulumi.output(args.repository);
    this.image = new dockerBuild.Image(`${name}-image`, imageBuildArgs(args, repo), { parent: this });
    this.ref = pulumi.interpolate`${repo}@${this.image.digest}`;
    this.registerOutputs({ ref: this.ref });
  }
}
