/**
 * The one place labels and tags are made. Kubernetes objects get `app.kubernetes.io/*` plus the cost labels;
 * cloud resources get `Service`/`Environment`/`CostCenter` tags (AWS) or their lowercase label form (GCP).
 */
export interface LabelContext {
  readonly environment: string;
  readonly costCenter: string;
  readonly team: string;
}

export const PART_OF = "pitchey-containers";
export const MANAGED_BY = "pulumi";

/** Selector labels: stable for the life of a Deployment, so only name and instance. */
export function selectorLabels(app: string): Record<string, string> {
  return { "app.kubernetes.io/name": app, "app.kubernetes.io/instance": app };
}

/** The labels a cost report groups Kubernetes spend by: on every object, and on every pod a chart runs. */
export function costLabels(ctx: LabelContext): Record<string, string> {
  return { "pitchey.io/environment": ctx.environment, "pitchey.io/cost-center": ctx.costCenter, "pitchey.io/team": ctx.team };
}

export function k8sLabels(ctx: LabelContext, app: string, component = "processor"): Record<string, string> {
  return {
    ...selectorLabels(app),
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": MANAGED_BY,
    ...costLabels(ctx),
  };
}

/** AWS tags; the provider's `defaultTags` carries them to every taggable resource. */
export function awsTags(ctx: LabelContext, service = PART_OF): Record<string, string> {
  return {
    Service: service,
    Environment: ctx.environment,
    CostCenter: ctx.costCenter,
    Team: ctx.team,
    ManagedBy: MANAGED_BY,
  };
}

/** GCP labels must be lowercase with `[a-z0-9_-]` only. */
export function gcpLabels(ctx: LabelContext, service = PART_OF): Record<string, string> {
  const clean = (v: string) => v.toLowerCase().replace(/[^a-z0-9_-]/g, "-").slice(0, 63);
  return {
    service: clean(service),
    environment: clean(ctx.environment),
    cost_center: clean(ctx.costCenter),
    team: clean(ctx.team),
    managed_by: MANAGED_BY,
  };
}

/**
 * The labels to hand a chart's free-form label value (`additionalLabels`, `commonLabels`, `podLabels`): the
 * program's own less `app.kubernetes.io/*`. Charts write those keys themselves, and most append the free-form map
 * after them, so passing ours renders each key twice in one mapping; Helm keeps the last, so the object carries our
 * name and component instead of the chart's, and a selector built from the chart's no longer matches its pods.
 */
export function chartLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([key]) => !key.startsWith("app.kubernetes.io/")));
}
