import type { ComputedOutputs, InvokeMock } from "../../stacks/plan/mocks";

const ACCOUNT = "123456789012";
const CA_DATA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBmock\n-----END CERTIFICATE-----\n").toString("base64");

const region = (inputs: Record<string, any>) => (inputs.region as string | undefined) ?? "eu-west-1";
const arn = (service: string, resource: string, inputs: Record<string, any> = {}) =>
  `arn:aws:${service}:${service === "iam" ? "" : region(inputs)}:${ACCOUNT}:${resource}`;

/** Outputs the GKE/EKS providers compute on create that the cluster components read (ids, endpoints, ARNs). */
export const CLUSTER_COMPUTED: Record<string, ComputedOutputs> = {
  "gcp:container/cluster:Cluster": (inputs) => ({
    endpoint: "34.82.10.20",
    masterAuth: { clusterCaCertificate: CA_DATA, clientCertificateConfig: { issueClientCertificate: false } },
    selfLink: `https://container.googleapis.com/v1/projects/${inputs.project}/locations/${inputs.location}/clusters/${inputs.name}`,
  }),
  "gcp:serviceaccount/account:Account": (inputs) => {
    const email = `${inputs.accountId}@${inputs.project}.iam.gserviceaccount.com`;
    return { email, member: `serviceAccount:${email}`, name: `projects/${inputs.project}/serviceAccounts/${email}` };
  },
  "gcp:artifactregistry/repository:Repository": (inputs) => ({
    name: inputs.repositoryId,
    registryUri: `${inputs.location}-docker.pkg.dev/${inputs.project}/${inputs.repositoryId}`,
  }),
  "aws:eks/cluster:Cluster": (inputs) => ({
    endpoint: `https://0123456789ABCDEF0123456789ABCDEF.gr7.${region(inputs)}.eks.amazonaws.com`,
    certificateAuthority: { data: CA_DATA },
    identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region(inputs)}.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF` }] }],
    arn: arn("eks", `cluster/${inputs.name}`, inputs),
  }),
  "aws:iam/role:Role": (inputs, name) => ({ arn: `arn:aws:iam::${ACCOUNT}:role/${inputs.name ?? name}`, name: inputs.name ?? name }),
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (inputs) => ({
    arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${String(inputs.url).replace(/^https:\/\//, "")}`,
  }),
  "aws:kms/key:Key": (_inputs, name) => ({ arn: arn("kms", `key/${name}`), keyId: `${name}-key-id` }),
  "aws:ecr/repository:Repository": (inputs) => ({
    arn: arn("ecr", `repository/${inputs.name}`, inputs),
    registryId: ACCOUNT,
    repositoryUrl: `${ACCOUNT}.dkr.ecr.${region(inputs)}.amazonaws.com/${inputs.name}`,
  }),
  "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }),
  "aws:eks/nodeGroup:NodeGroup": (inputs) => ({
    arn: arn("eks", `nodegroup/${inputs.nodeGroupName}`, inputs),
    status: "ACTIVE",
  }),
  "aws:cloudwatch/logGroup:LogGroup": (inputs) => ({ arn: arn("logs", `log-group:${inputs.name}`, inputs) }),
};

/** Data sources the cluster components call (project numbers, auth tokens, availability zones). */
export const CLUSTER_INVOKES: Record<string, InvokeMock> = {
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    id: "eu-west-1",
    names: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"],
    groupNames: ["eu-west-1"],
  }),
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": () => ({
    id: "eu-west-1",
    authorizationToken: Buffer.from("AWS:mock-ecr-token").toString("base64"),
    expiresAt: "2030-01-01T12:00:00Z",
    password: "mock-ecr-token",
    proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`,
    userName: "AWS",
  }),
  "aws:index/getPartition:getPartition": () => ({
    id: "aws",
    partition: "aws",
    dnsSuffix: "amazonaws.com",
    reverseDnsPrefix: "com.amazonaws",
  }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    id: ACCOUNT,
    accountId: ACCOUNT,
    arn: `arn:aws:iam::${ACCOUNT}:user/deployer`,
    userId: "AIDAMOCKUSERID",
  }),
  "gcp:organizations/getProject:getProject": (inputs) => ({
    id: `projects/${inputs.projectId ?? "pitchey-prod"}`,
    projectId: inputs.projectId ?? "pitchey-prod",
    name: inputs.projectId ?? "pitchey-prod",
    number: "402318765094",
  }),
  "gcp:organizations/getClientConfig:getClientConfig": () => ({
    id: "mock",
    accessToken: "ya29.mock-access-token",
    project: "pitchey-prod",
    region: "us-west1",
    zone: "us-west1-a",
  }),
};
