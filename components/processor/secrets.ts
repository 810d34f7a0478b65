import type * as k8s from "@pulumi/kubernetes";

/** Where Secrets are mounted, one directory per Secret (`<root>/<secret-name>/<key>`). */
export const SECRETS_ROOT = "/var/run/secrets/pitchey";

/** A Secret a container reads as files: each key `K` is the file the container's `K_FILE` names. */
export interface SecretFiles {
  /** The Secret's name; also its directory under `SECRETS_ROOT`. */
  readonly secretName: string;
  /** The keys this container reads; no other key of the Secret is mounted. */
  readonly keys: readonly string[];
}

/** Owner and group read only: the worker runs as the pod's fsGroup, nobody else needs the files. */
const READ_ONLY_MODE = 0o440;

const volumeName = (secretName: string) => `secret-${secretName}`.slice(0, 63).replace(/-+$/, "");

export const secretFilePath = (secretName: string, key: string) => `${SECRETS_ROOT}/${secretName}/${key}`;

/**
 * Secrets as read-only files instead of environment variables: a tool the worker spawns inherits its environment,
 * not its files, and the files hold only the keys the container reads. Returns the `_FILE` variables, the volumes
 * and their mounts.
 */
export function secretFileMounts(secrets: readonly SecretFiles[]): {
  env: k8s.types.input.core.v1.EnvVar[];
  volumes: k8s.types.input.core.v1.Volume[];
  volumeMounts: k8s.types.input.core.v1.VolumeMount[];
} {
  return {
    env: secrets.flatMap((s) => s.keys.map((key) => ({ name: `${key}_FILE`, value: secretFilePath(s.secretName, key) }))),
    volumes: secrets.map((s) => ({
      name: volumeName(s.secretName),
      secret: { secretName: s.secretName, items: s.keys.map((key) => ({ key, path: key })), defaultMode: READ_ONLY_MODE },
    })),
    volumeMounts: secrets.map((s) => ({ name: volumeName(s.secretName), mountPath: `${SECRETS_ROOT}/${s.secretName}`, readOnly: true })),
  };
}
