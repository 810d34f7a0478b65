import type { PlanResource } from "./evaluate";

export class InputError extends Error {}

/** Checks that parsed JSON is a resources.json array, naming the first bad record and field. */
export function parsePlanResources(data: unknown, source: string): PlanResource[] {
    if (!Array.isArray(data)) throw new InputError(`${source}: expected a JSON array of resources, got ${data === null ? "null" : typeof data}.`);
    data.forEach((r: unknown, i: number) => {
        const at = `${source}: record ${i}`;
        if (typeof r !== "object" || r === null || Array.isArray(r)) throw new InputError(`${at} is not an object.`);
        const rec = r as Record<string, unknown>;
        for (const field of ["urn", "type", "name"]) {
            if (typeof rec[field] !== "string" || rec[field] === "") throw new InputError(`${at}: field "${field}" must be a non-empty string.`);
        }
        if (rec.parent !== undefined && rec.parent !== null && typeof rec.parent !== "string") throw new InputError(`${at} (${String(rec.urn)}): field "parent" must be a URN string or null.`);
        if (typeof rec.props !== "object" || rec.props === null || Array.isArray(rec.props)) throw new InputError(`${at} (${String(rec.urn)}): field "props" must be an object.`);
    });
    return (data as Record<string, unknown>[]).map((r) => ({ ...(r as unknown as PlanResource), parent: (r.parent as string | null | undefined) ?? null }));
}
