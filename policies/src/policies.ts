import type { PackPolicy } from "./core/policy";
import * as security from "./kubernetes/security";
import * as reliability from "./kubernetes/reliability";
import * as identity from "./kubernetes/identity";
import * as scaling from "./kubernetes/scaling";
import * as k8sNetwork from "./network/kubernetes";
import * as cloudNetwork from "./network/cloud";
import * as s3 from "./storage/s3";
import * as keysGcs from "./storage/keys-gcs";
import * as storeCredentials from "./storage/credentials";
import * as backupBuckets from "./storage/backup-buckets";
import * as cloudCopy from "./storage/cloud-copy";
import * as gke from "./clusters/gke";
import * as eks from "./clusters/eks";
import * as pools from "./clusters/pools";
import * as resourceMetrics from "./clusters/resource-metrics";
import * as eksAccess from "./clusters/eks-access";
import * as ebsCsi from "./clusters/ebs-csi";
import * as versionSupport from "./clusters/version-support";
import * as sandboxRuntime from "./clusters/sandbox-runtime";
import * as autoscaler from "./clusters/autoscaler";
import * as registry from "./supply-chain/registry";
import * as runtime from "./supply-chain/runtime";
import * as cloudflare from "./edge/cloudflare";
import * as ingress from "./edge/ingress";
import * as tags from "./cost/tags";
import * as budget from "./cost/budget";
import * as completeness from "./completeness/stack";
import * as clusterState from "./completeness/cluster-state";
import * as monitoring from "./observability/monitoring";

/** Every policy in the pack, in documentation order. The pack entry point and the offline evaluator both use this list. */
export const allPolicies: readonly PackPolicy[] = [
    security.runAsNonRoot,
    security.nonZeroUidGid,
    security.noPrivilegeEscalation,
    security.dropAllCapabilities,
    security.seccompRuntimeDefault,
    security.notPrivileged,
    security.noHostNamespaces,
    security.noHostPorts,
    security.restrictedVolumes,
    security.readOnlyRootFilesystem,
    reliability.resourceRequestsLimits,
    reliability.ephemeralStorage,
    reliability.probesPresent,
    reliability.probesDistinct,
    reliability.imageDigest,
    reliability.noLatestTag,
    reliability.sloMinReplicas,
    reliability.sloAcceptedBelowMinimum,
    reliability.pdbRequired,
    reliability.pdbAllowsDisruption,
    reliability.terminationGrace,
    scaling.queueTriggerTotal,
    scaling.scalingRateLimited,
    scaling.gpuRolloutTimeout,
    identity.noAutomountToken,
    identity.noDefaultServiceAccount,
    identity.noBarePods,
    identity.noLiteralSecretEnv,
    identity.noSecretEnv,
    identity.secretMountsRead,
    identity.sandboxRuntime,
    identity.explicitNamespace,
    k8sNetwork.namespaceDefaultDeny,
    k8sNetwork.helmNamespaceDefaultDeny,
    k8sNetwork.codeExecutorEgress,
    k8sNetwork.storeReachable,
    k8sNetwork.noNodePort,
    k8sNetwork.loadBalancerOnlyIngress,
    cloudNetwork.noPublicIngress,
    cloudNetwork.defaultSecurityGroupClosed,
    s3.s3PublicAccessBlock,
    s3.s3SseKms,
    s3.s3Versioning,
    s3.s3AccessLogging,
    s3.s3AbortIncompleteUploads,
    s3.s3TlsOnly,
    s3.s3AclsDisabled,
    s3.backupReplication,
    s3.backupRetention,
    keysGcs.kmsRotation,
    keysGcs.kmsNoWildcardPrincipal,
    keysGcs.gcsUniformAccess,
    keysGcs.gcsPublicAccessPrevention,
    keysGcs.gcsVersioning,
    keysGcs.r2NotPublic,
    storeCredentials.backupCredentialIsolated,
    storeCredentials.credentialScoped,
    backupBuckets.backupBucketLocked,
    backupBuckets.backupBucketLifecycle,
    backupBuckets.gcsBackupCustomerKey,
    cloudCopy.backupCopyInOwnCloud,
    cloudCopy.gcsBackupHardened,
    gke.gkePrivateNodes,
    gke.gkeWorkloadIdentity,
    gke.gkeShieldedNodes,
    gke.gkeAutoRepairUpgrade,
    gke.gkeReleaseChannel,
    gke.gkeNetworkPolicy,
    gke.gkeNoDefaultSa,
    gke.gkeControlPlaneRestricted,
    gke.gkeLegacyAuthDisabled,
    gke.gkeLoggingMonitoring,
    gke.gkeSecretsEncryption,
    gke.gcpNamesPerCluster,
    eks.eksSecretsEncryption,
    eks.eksControlPlaneLogging,
    eks.eksPublicEndpoint,
    eks.eksNetworkPolicy,
    eks.eksNodeImdsV2,
    eks.launchTemplateEncryptedVolumes,
    versionSupport.kubernetesVersionSupported,
    resourceMetrics.metricsApiServed,
    eksAccess.eksAccessBeyondCreator,
    ebsCsi.ebsCsiDriverInstalled,
    sandboxRuntime.gvisorPinnedRelease,
    pools.specialPoolsTainted,
    pools.workloadToleratesPool,
    autoscaler.graceWithinAutoscalerDrain,
    autoscaler.spotPreferenceVisibleToAutoscaler,
    registry.registryScanOnPush,
    registry.registryImmutableTags,
    registry.registryUntaggedExpiry,
    registry.helmChartPinned,
    registry.imageBuildTags,
    registry.imageNotBuiltOnPreview,
    runtime.imageRuntimeSupported,
    cloudflare.cfSslStrict,
    cloudflare.cfMinTls,
    cloudflare.cfAlwaysHttps,
    cloudflare.cfApiProxied,
    cloudflare.cfLoadBalancerFailover,
    ingress.singleLoadBalancer,
    ingress.routeRateLimited,
    ingress.publicRouteRequiresAuth,
    tags.awsRequiredTags,
    tags.gcpRequiredLabels,
    tags.k8sRequiredLabels,
    tags.helmValuesSelectorLabels,
    tags.helmPodCostLabels,
    tags.namespaceQuota,
    tags.quotaFitsMaxScale,
    budget.ceilingWithinBudget,
    budget.floorHeadroom,
    budget.costPerJob,
    completeness.processorScaledObject,
    completeness.alertRunbook,
    monitoring.alertSeverity,
    monitoring.lokiBucketPrivate,
    monitoring.grafanaNoAnonymousAdmin,
    completeness.databaseBackups,
    completeness.backupRestoreVerified,
    clusterState.clusterStateBackupScheduled,
    clusterState.veleroWorkloadIdentity,
    completeness.databaseStorageProtected,
    completeness.runtimeClassDeclared,
    completeness.serviceSelectsPods,
];
