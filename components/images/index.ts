import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";

/** Paths under the build context that never enter an image. */
const IGNORED = new Set(["node_modules", "dist", ".pgdata", "coverage"]);

/**
 * A content hash of the build context. Tags are immutable in the registries, so the tag must change exactly
 * when the content does: same source, same tag, no rebuild.
 */
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

export interface WorkerImageArgs {
  /** Dockerfile target: a processor's name, or `db-backup`. */
  readonly target: string;
  /** Build context directory. */
  readonly context: string;
  readonly dockerfile: string;
  /** Repository without tag, from the cluster's registry. */
  readonly repository: pulumi.Input<string>;
  readonly registryAuth: pulumi.Input<{ address: string; username: string; password: string }>;
  /** Content tag (see `contextHash`). */
  readonly tag: string;
  readonly platforms: readonly ("linux/amd64" | "linux/arm64")[];
  /** Push to the registry. Default: true. */
  readonly push: boolean;
}

/** An image built from a target of `images/Dockerfile` and pushed; consumers take `ref`, which is by digest. */
export class WorkerImage extends pulumi.ComponentResource {
  readonly image: dockerBuild.Image;
  /** `repository@sha256:…` */
  readonly ref: pulumi.Output<string>;

  constructor(name: string, args: WorkerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:images:WorkerImage", name, {}, opts);
    const repo = pulumi.output(args.repository);
    this.image = new dockerBuild.Image(
      `${name}-image`,
      {
        context: { location: args.context },
        dockerfile: { location: args.dockerfile },
        target: args.target,
        platforms: [...args.platforms],
        push: args.push,
        tags: [pulumi.interpolate`${repo}:${args.tag}`],
        registries: [pulumi.output(args.registryAuth)],
        buildArgs: { PROCESSOR: args.target },
      },
      { parent: this },
    );
    this.ref = pulumi.interpolate`${repo}@${this.image.digest}`;
    this.registerOutputs({ ref: this.ref });
  }
}
