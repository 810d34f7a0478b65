import { readFileSync } from "node:fs";

/** Variables that hold secrets: each may instead name a file, as `<NAME>_FILE`, whose content is the value. */
export const SECRET_VARIABLES = [
  "DATABASE_URL",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "RESULTS_S3_ACCESS_KEY_ID",
  "RESULTS_S3_SECRET_ACCESS_KEY",
  "GCS_ACCESS_TOKEN",
] as const;

export class SecretFileError extends Error {
  override name = "SecretFileError";
}

/**
 * The environment with every `<NAME>_FILE` of a secret variable replaced by `<NAME>` set to that file's content
 * (one trailing newline trimmed), so a Secret mounted as a file never has to be an environment variable. A set
 * `_FILE` wins over the plain variable. Unreadable files are reported together, each by its variable.
 */
export function resolveSecretFiles(
  env: NodeJS.ProcessEnv,
  read: (path: string) => string = (path) => readFileSync(path, "utf8"),
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  const problems: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === "") continue;
    try {
      out[name] = read(file).replace(/\r?\n$/, "");
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    delete out[`${name}_FILE`];
  }
  if (problems.length > 0) throw new SecretFileError(problems.join("\n"));
  return out;
}
