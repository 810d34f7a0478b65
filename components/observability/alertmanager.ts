/**
 * Alertmanager's configuration: severity picks the receiver, every alert also lands in an email digest, a warning
 * waits while a critical alert fires for the same service. Receivers' credentials are never in this document: they
 * are files Alertmanager reads from a mounted Secret, so the configuration (and the plan's copy of it) holds none.
 */
export interface AlertRoutingArgs {
  /** Slack channel warnings go to. */
  readonly slackChannel: string;
  readonly email: { readonly to: string; readonly from: string; readonly smarthost: string; readonly username: string };
  /** Timing of the digest route: long group intervals turn alerts into a periodic summary. */
  readonly digest: { readonly groupWait: string; readonly groupInterval: string; readonly repeatInterval: string };
  /** Directory the receivers' Secret is mounted at. Default: where the Prometheus Operator mounts `secrets`. */
  readonly secretsDir?: string;
}

/** Keys of the receivers' Secret; each holds one credential, read by Alertmanager from its file. */
export const RECEIVER_SECRET_KEYS = {
  pagerdutyRoutingKey: "pagerduty-routing-key",
  slackWebhookUrl: "slack-webhook-url",
  smtpPassword: "smtp-password",
} as const;

/** Name of the Kubernetes Secret holding the receivers' credentials. */
export const RECEIVER_SECRET = "alertmanager-receivers";
/** Where the Prometheus Operator mounts a Secret listed in the Alertmanager's `secrets`. */
export const RECEIVER_SECRETS_DIR = `/etc/alertmanager/secrets/${RECEIVER_SECRET}`;

export const RECEIVERS = { pagerduty: "pagerduty", slack: "slack", digest: "email-digest" } as const;

const SLACK_TITLE = "[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.service }}";
const SLACK_TEXT = [
  "{{ range .Alerts }}*{{ .Annotations.summary }}*",
  "{{ .Annotations.description }}",
  "{{ if .Annotations.runbook_url }}Runbook: {{ .Annotations.runbook_url }}{{ end }}",
  "{{ end }}",
].join("\n");

export function alertmanagerConfig(a: AlertRoutingArgs): Record<string, unknown> {
  const file = (key: string) => `${(a.secretsDir ?? RECEIVER_SECRETS_DIR).replace(/\/$/, "")}/${key}`;
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: RECEIVERS.digest,
      // Falco's alerts have no alertname; its rule name keeps them apart.
      group_by: ["alertname", "service", "rule"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        {
          // Everything, batched: the record of what fired, inhibited warnings included.
          receiver: RECEIVERS.digest,
          group_by: ["environment"],
          group_wait: a.digest.groupWait,
          group_interval: a.digest.groupInterval,
          repeat_interval: a.digest.repeatInterval,
          continue: true,
        },
        { receiver: RECEIVERS.pagerduty, matchers: ['severity="critical"'] },
        { receiver: RECEIVERS.slack, matchers: ['severity="warning"'] },
      ],
    },
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        // Only alerts that name a service: an unlabelled warning is never silenced by an unrelated critical.
        target_matchers: ['severity="warning"', 'service=~".+"'],
        equal: ["service"],
      },
    ],
    receivers: [
      {
        name: RECEIVERS.digest,
        email_configs: [
          {
            to: a.email.to,
            from: a.email.from,
            smarthost: a.email.smarthost,
            auth_username: a.email.username,
            auth_password_file: file(RECEIVER_SECRET_KEYS.smtpPassword),
            require_tls: true,
            send_resolved: true,
            headers: { Subject: "[{{ .CommonLabels.environment }}] {{ .Alerts.Firing | len }} firing, {{ .Alerts.Resolved | len }} resolved" },
          },
        ],
      },
      {
        name: RECEIVERS.pagerduty,
        pagerduty_configs: [
          {
            routing_key_file: file(RECEIVER_SECRET_KEYS.pagerdutyRoutingKey),
            send_resolved: true,
            description: "{{ .CommonLabels.alertname }} {{ .CommonLabels.service }}: {{ .CommonAnnotations.summary }}",
            details: {
              environment: "{{ .CommonLabels.environment }}",
              description: "{{ .CommonAnnotations.description }}",
              runbook: "{{ .CommonAnnotations.runbook_url }}",
            },
          },
        ],
      },
      {
        name: RECEIVERS.slack,
        slack_configs: [{ api_url_file: file(RECEIVER_SECRET_KEYS.slackWebhookUrl), channel: a.slackChannel, send_resolved: true, title: SLACK_TITLE, text: SLACK_TEXT }],
      },
    ],
  };
}
