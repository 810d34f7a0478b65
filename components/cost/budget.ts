import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/** Alert at 80 % of actual spend and at 100 % of forecast spend: early enough to act within the month. */
export const BUDGET_THRESHOLDS = { actualPercent: 80, forecastPercent: 100 } as const;

export interface StackBudgetArgs {
  /** Monthly limit in USD. The policy pack compares the plan's estimated ceiling with it. */
  readonly monthlyUsd: number;
  /** Emails told when spend crosses the thresholds. Default: none (GCP still tells the billing account's admins). */
  readonly alertEmails?: readonly string[];
  /** Where the spend is: a GCP project on a billing account, or an AWS account's resources tagged with the environment. */
  readonly scope:
    | { readonly cloud: "gcp"; readonly billingAccount: string; readonly project: string }
    | { readonly cloud: "aws"; readonly environmentTag: string };
  /** Tags (AWS) for the budget itself. */
  readonly tags?: Record<string, string>;
  /**
   * The budget's name (AWS) and display name (GCP). AWS budget names are unique in the account, so two stacks in
   * one account need different ones. Default: `<resource name>-monthly`.
   */
  readonly budgetName?: string;
}

/**
 * A cloud budget for one stack: the same figure the plan's estimate is checked against before deploying, watched
 * against real spend afterwards.
 */
export class StackBudget extends pulumi.ComponentResource {
  readonly budget: gcp.billing.Budget | aws.budgets.Budget;

  constructor(name: string, args: StackBudgetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:cost:StackBudget", name, {}, opts);
    if (!(args.monthlyUsd > 0)) throw new pulumi.InputPropertyError({ propertyPath: "monthlyUsd", reason: `must be > 0, got ${args.monthlyUsd}` });
    const emails = [...(args.alertEmails ?? [])];
    const units = String(Math.round(args.monthlyUsd));
    if (args.scope.cloud === "gcp") {
      const channels = emails.map(
        (email, i) =>
          new gcp.monitoring.NotificationChannel(`${name}-email-${i}`, { type: "email", displayName: `${name} budget: ${email}`, labels: { email_address: email } }, { parent: this }),
      );
      this.budget = new gcp.billing.Budget(
        `${name}-budget`,
        {
          billingAccount: args.scope.billingAccount,
          displayName: args.budgetName ?? `${name} monthly`,
          amount: { specifiedAmount: { currencyCode: "USD", units } },
          budgetFilter: { projects: [`projects/${args.scope.project}`], calendarPeriod: "MONTH" },
          thresholdRules: [
            { thresholdPercent: BUDGET_THRESHOLDS.actualPercent / 100, spendBasis: "CURRENT_SPEND" },
            { thresholdPercent: BUDGET_THRESHOLDS.forecastPercent / 100, spendBasis: "FORECASTED_SPEND" },
          ],
          ...(channels.length > 0 ? { allUpdatesRule: { monitoringNotificationChannels: channels.map((c) => c.id) } } : {}),
        },
        { parent: this },
      );
    } else {
      const notify = (notificationType: "ACTUAL" | "FORECASTED", threshold: number) => ({
        comparisonOperator: "GREATER_THAN",
        notificationType,
        threshold,
        thresholdType: "PERCENTAGE",
        subscriberEmailAddresses: emails,
      });
      this.budget = new aws.budgets.Budget(
        `${name}-budget`,
        {
          name: args.budgetName ?? `${name}-monthly`,
          budgetType: "COST",
          limitAmount: units,
          limitUnit: "USD",
          timeUnit: "MONTHLY",
          // Needs the Environment tag activated as a cost allocation tag (Billing console), as docs/cost.md says.
          costFilters: [{ name: "TagKeyValue", values: [`user:Environment$${args.scope.environmentTag}`] }],
          notifications: emails.length > 0 ? [notify("ACTUAL", BUDGET_THRESHOLDS.actualPercent), notify("FORECASTED", BUDGET_THRESHOLDS.forecastPercent)] : [],
          tags: args.tags,
        },
        { parent: this },
      );
    }
    this.registerOutputs({ budget: this.budget });
  }
}
