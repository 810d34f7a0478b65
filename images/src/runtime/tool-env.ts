/** Variables an external tool may see from the worker's environment: where to find programs, locale, scratch space. */
const PASSED = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "XDG_CACHE_HOME"] as const;

/**
 * A minimal, explicit environment for a spawned tool (ffmpeg, ffprobe, pdfinfo, pdftotext, pg_dump…). Tools
 * parse hostile files; an exploit in one must not find the database URL or object-store keys in its own
 * environment, so nothing is inherited but the few variables above and what the caller adds on purpose.
 */
export function toolEnv(extra: Record<string, string | undefined> = {}, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED) if (from[name] !== undefined) env[name] = from[name];
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}
