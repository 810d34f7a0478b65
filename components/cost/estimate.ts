import { parseQuantity } from "../quantity";
import { PriceBookError, type Cloud, type MachinePrice, type PriceBook } from "./book";
import { allocatable, dominantShare, nodesNeeded, subtract, type Shape } from "./capacity";

/**
 * What a stack costs per month, from the resources its program registers (the offline plan's records, or the
 * resources a policy sees in `pulumi preview`). Everything is priced at a floor (what runs when idle: node pools at
 * their minimum, processors at minReplicas) and a ceiling (processors at maxReplicas on nodes bin-packed from their
 * requests, pools capped at maxNodes). A resource type the estimator does not know is listed as not priced.
 */

/** One registered resource: the fields the plan's resources.json and CrossGuard's PolicyResource share. */
export interface CostRecord {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string | null;
  readonly props: Record<string, any>;
}

export interface Range {
  readonly floor: number;
  readonly ceiling: number;
}

export interface LineItem {
  /** The top-level component the resource belongs to, e.g. `cluster:GkeCluster pitchey-containers`. */
  readonly component: string;
  /** The resource's name in the plan. */
  readonly resource: string;
  readonly what: string;
  readonly unit: string;
  readonly quantity: Range;
  /** Price of one unit, per hour (per-month prices are divided by the book's hours per month). */
  readonly unitHourly: number;
  readonly hourly: Range;
  readonly monthly: Range;
}

export interface ProcessorCost {
  readonly processor: string;
  readonly pool: string;
  readonly machineType: string;
  readonly spot: boolean;
  readonly replicas: Range;
  /** Nodes of the pool's machine type these replicas alone need (first-fit decreasing). */
  readonly nodesAlone: Range;
  readonly podHourly: number;
  readonly maxConcurrentJobs: number;
  /** Price of one job-second at full concurrency: podHourly / 3600 / maxConcurrentJobs. */
  readonly derivedCostPerSecondUsd: number;
  /** What the Deployment tells the worker (JOB_COST_PER_SECOND_USD). */
  readonly configuredCostPerSecondUsd?: number;
  /** The p95 duration the processor is held to (its SLO), when the Deployment records it. */
  readonly latencyP95Seconds?: number;
  readonly costPerJobAtP95Usd?: number;
}

export interface NotPriced {
  readonly component: string;
  readonly resource: string;
  readonly type: string;
  readonly reason: string;
}

export interface ComponentTotal extends Range {
  readonly component: string;
}

export interface CostEstimate {
  readonly currency: "USD";
  readonly hoursPerMonth: number;
  readonly items: LineItem[];
  readonly components: ComponentTotal[];
  readonly total: Range;
  readonly processors: ProcessorCost[];
  readonly notPriced: NotPriced[];
  /** Capacity and pricing facts a reviewer should see (a pool too small for its processors, extended support…). */
  readonly warnings: string[];
  readonly assumptions: { key: string; value: number; basis: string }[];
}

export interface EstimateOptions {
  /** The day prices apply (Kubernetes support windows depend on it). */
  readonly today: Date;
}

/** Types that cost nothing by themselves, and why; anything neither here nor priced below is "not priced". */
const FREE: readonly [RegExp, string][] = [
  [/^pulumi:/, "Pulumi's own bookkeeping"],
  [/^pitchey:/, "a component: its children are priced"],
  [/^kubernetes:/, "a Kubernetes object: it runs on the node pools priced here"],
  [/^docker-build:/, "built on the deployer's machine; its storage is priced with the registry"],
  [/^random:/, "generated locally"],
  [/^gcp:(serviceaccount|projects)\//, "identity and project settings are free"],
  [/^gcp:.*iam(Member|Binding|Policy)/i, "IAM bindings are free"],
  [/^gcp:compute\/(network|subnetwork|firewall|router|route|globalAddress):/, "VPC structure is free (traffic is priced with NAT)"],
  [/^gcp:kms\/keyRing:/, "key rings are free; their keys are priced"],
  [/^gcp:billing\/budget:/, "billing budgets are free"],
  [/^gcp:monitoring\/notificationChannel:/, "notification channels are free"],
  [/^gcp:container\/nodePool:/, "priced from the pool's nodes"],
  [/^aws:iam\//, "IAM is free"],
  [/^aws:ec2\/(vpc|subnet|routeTable|routeTableAssociation|route|internetGateway|defaultSecurityGroup|securityGroup|securityGroupRule|vpcEndpoint|launchTemplate):/, "VPC structure and launch templates are free (their instances and traffic are priced)"],
  [/^aws:vpc\//, "security group rules are free"],
  [/^aws:eks\/(addon|accessEntry|accessPolicyAssociation|podIdentityAssociation):/, "EKS add-ons and access entries are free; what they run is on the node pools"],
  [/^aws:kms\/alias:/, "aliases are free; their keys are priced"],
  [/^aws:ecr\/(lifecyclePolicy|repositoryPolicy):/, "registry policies are free"],
  [/^aws:budgets\//, "the first budgets of an account are free"],
  [/^aws:s3\/(bucketPublicAccessBlock|bucketVersioning|bucketLifecycleConfiguration|bucketPolicy|bucketServerSideEncryptionConfiguration|bucketOwnershipControls|bucketLogging|bucketReplicationConfig|bucketObjectLockConfiguration)/, "bucket settings are free; the bucket's storage is priced"],
  [/^cloudflare:index\/(r2BucketLifecycle|r2BucketLock|dnsRecord|zoneSetting|ruleset|loadBalancerMonitor|loadBalancerPool|authenticatedOriginPulls.*|r2BucketCors|apiToken|accountToken):/, "included in the zone's plan or priced with its load balancer or bucket"],
];

const freeReason = (type: string) => FREE.find(([re]) => re.test(type))?.[1];

/** `urn:…::a$b$c::name` → the record's parent chain up to the stack, outermost first. */
function componentOf(r: CostRecord, byUrn: Map<string, CostRecord>): string {
  let top: CostRecord | undefined;
  for (let p = r.parent ? byUrn.get(r.parent) : undefined; p; p = p.parent ? byUrn.get(p.parent) : undefined) {
    if (p.type.startsWith("pitchey:")) top = p;
  }
  return top ? `${top.type.replace(/^pitchey:/, "")} ${top.name}` : "(top level)";
}

const regionOfLocation = (location: string) => location.replace(/-[a-z]$/, "");

/** The stack's cloud (GKE first) and each cloud's region, from the resources that say it. */
function placeOf(records: readonly CostRecord[]): { cloud?: Cloud; regions: Partial<Record<Cloud, string>> } {
  const gke = records.find((r) => r.type === "gcp:container/cluster:Cluster");
  const gcpProvider = records.find((r) => r.type === "pulumi:providers:gcp" && r.props.region);
  const awsProvider = records.find((r) => r.type === "pulumi:providers:aws" && r.props.region);
  const eks = records.find((r) => r.type === "aws:eks/cluster:Cluster");
  const regions: Partial<Record<Cloud, string>> = { cloudflare: "*" };
  if (gke?.props.location) regions.gcp = regionOfLocation(String(gke.props.location));
  else if (gcpProvider) regions.gcp = String(gcpProvider.props.region);
  if (awsProvider) regions.aws = String(awsProvider.props.region);
  return { cloud: gke ? "gcp" : eks || awsProvider ? "aws" : undefined, regions };
}

interface Pool {
  readonly record: CostRecord;
  readonly cloud: Cloud;
  readonly region: string;
  readonly label: string;
  readonly machines: MachinePrice[];
  readonly spot: boolean;
  readonly min: number;
  readonly max: number;
  readonly diskGb: number;
  readonly diskType: string;
  /** GPUs priced on top of the machine (GCP accelerators not bundled in the machine type). */
  readonly extraGpu?: { type: string; count: number };
}

class Estimator {
  readonly items: LineItem[] = [];
  readonly notPriced: NotPriced[] = [];
  readonly warnings: string[] = [];
  readonly processors: ProcessorCost[] = [];
  /** Per pool, the node-hours its processors' pods account for. */
  private readonly attributed = new Map<string, Range>();
  private readonly byUrn: Map<string, CostRecord>;
  private readonly cloud?: Cloud;
  private readonly regions: Partial<Record<Cloud, string>>;

  constructor(
    private readonly records: readonly CostRecord[],
    private readonly book: PriceBook,
    private readonly opts: EstimateOptions,
  ) {
    this.byUrn = new Map(records.map((r) => [r.urn, r]));
    const place = placeOf(records);
    this.cloud = place.cloud;
    this.regions = place.regions;
  }

  private get hours() {
    return this.book.hoursPerMonth;
  }

  private add(r: CostRecord, what: string, unit: string, quantity: Range, unitHourly: number, hourly?: Range): void {
    const h = hourly ?? { floor: quantity.floor * unitHourly, ceiling: quantity.ceiling * unitHourly };
    this.items.push({
      component: componentOf(r, this.byUrn),
      resource: r.name,
      what,
      unit,
      quantity,
      unitHourly,
      hourly: h,
      monthly: { floor: h.floor * this.hours, ceiling: h.ceiling * this.hours },
    });
  }

  private skip(r: CostRecord, reason: string): void {
    this.notPriced.push({ component: componentOf(r, this.byUrn), resource: r.name, type: r.type, reason });
  }

  private service(r: CostRecord, cloud: Cloud, name: string) {
    const region = this.regions[cloud];
    const s = region ? this.book.service(cloud, region, name) : undefined;
    if (!s) this.skip(r, region ? `the price book has no "${name}" price for ${cloud} ${region}` : `the plan does not show the ${cloud} region`);
    return s;
  }

  /** A monthly-priced service as an hourly figure, so every line has the same unit of time. */
  private perHour(monthly: number): number {
    return monthly / this.hours;
  }

  run(): void {
    const pools = this.pools();
    const poolNodes = this.processorsOn(pools);
    for (const pool of pools) this.priceNodes(pool, poolNodes.get(pool.label));
    const totalNodes = [...pools].reduce(
      (acc, p) => {
        const n = poolNodes.get(p.label) ?? { floor: p.min, ceiling: p.max };
        return { floor: acc.floor + n.floor, ceiling: acc.ceiling + n.ceiling };
      },
      { floor: 0, ceiling: 0 },
    );
    const images = this.records.filter((r) => r.type === "docker-build:index:Image").length;
    const natGateways = this.records.filter((r) => r.type === "aws:ec2/natGateway:NatGateway").length;

    for (const r of this.records) {
      const p = r.props;
      switch (r.type) {
        case "gcp:container/cluster:Cluster": {
          const s = this.service(r, "gcp", "gke-cluster");
          if (s) this.add(r, "GKE cluster management fee", s.unit, { floor: 1, ceiling: 1 }, s.price);
          break;
        }
        case "aws:eks/cluster:Cluster": {
          const version = String(p.version ?? "");
          const ends = this.book.standardSupportEnds("aws", version);
          const past = ends !== undefined && Date.parse(`${ends}T00:00:00Z`) <= this.opts.today.getTime();
          // EKS's own default is EXTENDED; a cluster set to STANDARD is never billed extended support: at the end of
          // standard support EKS upgrades its control plane to the next minor instead.
          const extended = past && p.upgradePolicy?.supportType !== "STANDARD";
          if (ends === undefined) this.warnings.push(`EKS ${version || "(no version)"}: the price book has no support dates; priced at standard support`);
          if (extended) this.warnings.push(`EKS ${version} left standard support on ${ends}: the control plane bills at the extended-support rate until upgraded`);
          if (past && !extended) {
            this.warnings.push(
              `EKS ${version} left standard support on ${ends}: with supportType STANDARD, EKS upgrades the control plane to the next minor by itself, past the version this plan declares`,
            );
          }
          const s = this.service(r, "aws", extended ? "eks-cluster-extended-support" : "eks-cluster");
          if (s) this.add(r, `EKS control plane (${extended ? "extended" : "standard"} support, ${version})`, s.unit, { floor: 1, ceiling: 1 }, s.price);
          break;
        }
        case "gcp:compute/routerNat:RouterNat": {
          const vm = this.service(r, "gcp", "cloud-nat-vm");
          const data = this.service(r, "gcp", "cloud-nat-data");
          if (vm) this.add(r, "Cloud NAT gateway, per node behind it (billed for at most 32)", vm.unit, { floor: Math.min(totalNodes.floor, 32), ceiling: Math.min(totalNodes.ceiling, 32) }, vm.price);
          if (data) this.addAssumed(r, "Cloud NAT data processed", "natGbPerMonth", data.unit, data.price);
          break;
        }
        case "aws:ec2/natGateway:NatGateway": {
          const gw = this.service(r, "aws", "nat-gateway");
          const data = this.service(r, "aws", "nat-gateway-data");
          if (gw) this.add(r, "NAT gateway", gw.unit, { floor: 1, ceiling: 1 }, gw.price);
          if (data) this.addAssumed(r, "NAT data processed (the stack's share across its gateways)", "natGbPerMonth", data.unit, data.price, 1 / Math.max(natGateways, 1));
          break;
        }
        case "aws:ec2/eip:Eip": {
          const s = this.service(r, "aws", "public-ipv4");
          if (s) this.add(r, "public IPv4 address", s.unit, { floor: 1, ceiling: 1 }, s.price);
          break;
        }
        case "gcp:kms/cryptoKey:CryptoKey": {
          const s = this.service(r, "gcp", "kms-key-version");
          const rotation = parseDurationSeconds(p.rotationPeriod);
          // Rotation adds a version each period and old versions stay enabled to decrypt: a year holds 1 + 365/period.
          const versions = rotation ? 1 + Math.floor((365 * 86_400) / rotation) : 1;
          if (s) this.add(r, `KMS key versions (1 now, ${versions} after a year of rotation)`, s.unit, { floor: 1, ceiling: versions }, this.perHour(s.price));
          break;
        }
        case "aws:kms/key:Key": {
          const s = this.service(r, "aws", "kms-key");
          if (s) this.add(r, "KMS key", s.unit, { floor: 1, ceiling: 1 }, this.perHour(s.price));
          break;
        }
        case "gcp:artifactregistry/repository:Repository": {
          const s = this.service(r, "gcp", "artifact-registry-storage");
          if (s) this.addAssumed(r, `image storage (${images} images)`, "registryGbPerRepository", s.unit, this.perHour(s.price), Math.max(images, 1), true);
          break;
        }
        case "aws:ecr/repository:Repository": {
          const s = this.service(r, "aws", "ecr-storage");
          if (s) this.addAssumed(r, "image storage", "registryGbPerRepository", s.unit, this.perHour(s.price), 1, true);
          break;
        }
        case "aws:cloudwatch/logGroup:LogGroup": {
          const s = this.service(r, "aws", "logs-ingestion");
          if (s) this.addAssumed(r, "control-plane log ingestion", "controlPlaneLogsGbPerMonth", s.unit, s.price);
          break;
        }
        case "cloudflare:index/r2Bucket:R2Bucket":
        case "gcp:storage/bucket:Bucket":
        case "aws:s3/bucket:Bucket":
        case "aws:s3/bucketV2:BucketV2": {
          const provider: Cloud = r.type.startsWith("cloudflare") ? "cloudflare" : r.type.startsWith("gcp") ? "gcp" : "aws";
          const s = this.service(r, provider, provider === "cloudflare" ? "r2-storage" : "object-storage");
          const key = /backup/i.test(String(p.name ?? p.bucket ?? r.name)) ? "objectStorageGb.backups" : "objectStorageGb.default";
          if (s) this.addAssumed(r, "object storage", key, s.unit, this.perHour(s.price), 1, true);
          break;
        }
        case "cloudflare:index/loadBalancer:LoadBalancer": {
          const base = this.service(r, "cloudflare", "load-balancing");
          const extra = this.service(r, "cloudflare", "load-balancing-origin");
          const origins = this.records
            .filter((x) => x.type === "cloudflare:index/loadBalancerPool:LoadBalancerPool")
            .reduce((n, x) => n + (Array.isArray(x.props.origins) ? x.props.origins.length : 0), 0);
          if (base) this.add(r, "Cloudflare load balancing (first 2 origins)", base.unit, { floor: 1, ceiling: 1 }, this.perHour(base.price));
          if (extra && origins > 2) this.add(r, `Cloudflare load balancing, origins beyond 2 (${origins} in all)`, extra.unit, { floor: origins - 2, ceiling: origins - 2 }, this.perHour(extra.price));
          break;
        }
        case "kubernetes:core/v1:Service": {
          if (p.spec?.type !== "LoadBalancer") break;
          if (!this.cloud) {
            this.skip(r, "a LoadBalancer Service in a stack whose cloud the plan does not show");
            break;
          }
          const s = this.service(r, this.cloud, "load-balancer");
          if (s) this.add(r, "cloud load balancer for a LoadBalancer Service", s.unit, { floor: 1, ceiling: 1 }, s.price);
          break;
        }
        case "kubernetes:core/v1:PersistentVolumeClaim":
          this.volumes(r, "persistent volume", [p.spec?.resources?.requests?.storage], 1, p.spec?.storageClassName);
          break;
        case "kubernetes:postgresql.cnpg.io/v1:Cluster":
          // Each instance claims its data volume and, when set, its WAL volume.
          this.volumes(r, "PostgreSQL volumes (data + WAL per instance)", [p.spec?.storage?.size, p.spec?.walStorage?.size], Number(p.spec?.instances ?? 1), p.spec?.storage?.storageClass);
          break;
        case "aws:eks/nodeGroup:NodeGroup":
          break;
        default:
          if (!freeReason(r.type)) this.skip(r, "the estimator has no price for this resource type");
      }
    }
  }

  /** Volumes of `sizes` (quantities) times `copies`, on the disk type their StorageClass provisions (the cloud's default otherwise). */
  private volumes(r: CostRecord, what: string, sizes: unknown[], copies: number, storageClass?: string): void {
    const sc = this.records.find((x) => x.type === "kubernetes:storage.k8s.io/v1:StorageClass" && (x.props.metadata?.name ?? x.name) === storageClass);
    const diskType = String(sc?.props.parameters?.type ?? (this.cloud === "aws" ? "gp3" : "pd-balanced"));
    const region = this.cloud ? this.regions[this.cloud] : undefined;
    const d = this.cloud && region ? this.book.disk(this.cloud, region, diskType) : undefined;
    const gb = sizes.filter((q) => q !== undefined).reduce<number>((n, q) => n + parseQuantity(q) / 2 ** 30, 0) * copies;
    if (!d || !Number.isFinite(gb) || gb === 0) this.skip(r, `volumes whose size or disk price (${diskType}) is unknown`);
    else this.add(r, `${what}, ${diskType}`, "GB-month", { floor: gb, ceiling: gb }, this.perHour(d.perGbMonth));
  }

  /** A quantity the plan cannot see, taken from the book's stated assumptions. */
  private addAssumed(r: CostRecord, what: string, key: string, unit: string, unitHourlyOrPerGb: number, scale = 1, alreadyHourly = false): void {
    const q = this.book.assumption(key) * scale;
    // Per-GB prices of data processed are per month of traffic: spread over the month's hours.
    const unitHourly = alreadyHourly ? unitHourlyOrPerGb : unitHourlyOrPerGb / this.hours;
    this.add(r, `${what} (assumed ${+q.toFixed(2)} ${unit.replace(/-month$/, "")}: ${key})`, unit, { floor: q, ceiling: q }, unitHourly);
  }

  private pools(): Pool[] {
    const pools: Pool[] = [];
    for (const r of this.records) {
      const p = r.props;
      if (r.type === "gcp:container/nodePool:NodePool") {
        const nc = p.nodeConfig ?? {};
        const type = String(nc.machineType ?? "e2-medium");
        const region = p.location ? regionOfLocation(String(p.location)) : (this.regions.gcp ?? "");
        const m = this.machine(r, "gcp", region, type, "nodeConfig.machineType");
        if (!m) continue;
        const a = p.autoscaling ?? {};
        const zones = Array.isArray(p.nodeLocations) && p.nodeLocations.length > 0 ? p.nodeLocations.length : /-[a-z]$/.test(String(p.location)) ? 1 : 3;
        const min = a.totalMinNodeCount ?? (a.minNodeCount !== undefined ? a.minNodeCount * zones : (p.nodeCount ?? p.initialNodeCount ?? 0) * zones);
        const max = a.totalMaxNodeCount ?? (a.maxNodeCount !== undefined ? a.maxNodeCount * zones : min);
        const acc = Array.isArray(nc.guestAccelerators) ? nc.guestAccelerators[0] : undefined;
        const bundled = acc && m.gpu && m.gpu.type === acc.type && m.gpu.count >= (acc.count ?? 1);
        let extraGpu: Pool["extraGpu"];
        if (acc && !bundled) {
          if (!this.book.gpu("gcp", region, acc.type)) {
            throw new PriceBookError(`price book: no price for GPU ${acc.type} in gcp ${region} (node pool ${r.name})`);
          }
          extraGpu = { type: acc.type, count: acc.count ?? 1 };
        }
        pools.push({
          record: r,
          cloud: "gcp",
          region,
          label: String(nc.labels?.["pitchey.io/pool"] ?? p.name ?? r.name),
          // Attached accelerators are the node's GPUs for packing; their price is added on top of the machine's.
          machines: [extraGpu ? { ...m, gpu: extraGpu } : m],
          spot: nc.spot === true || nc.preemptible === true,
          min,
          max,
          diskGb: nc.diskSizeGb ?? 100,
          diskType: nc.diskType ?? "pd-balanced",
          extraGpu,
        });
      } else if (r.type === "aws:eks/nodeGroup:NodeGroup") {
        const types: string[] = Array.isArray(p.instanceTypes) && p.instanceTypes.length > 0 ? p.instanceTypes : ["t3.medium"];
        const region = this.regions.aws;
        if (!region) {
          this.skip(r, "the plan does not show the AWS region (no aws provider with a region)");
          continue;
        }
        const machines = types.map((t) => this.machine(r, "aws", region, t, "instanceTypes")).filter((m): m is MachinePrice => m !== undefined);
        if (machines.length !== types.length) continue;
        const lt = this.records.find((x) => x.type === "aws:ec2/launchTemplate:LaunchTemplate" && String(p.launchTemplate?.id ?? "").includes(`::${x.name}-id`));
        const ebs = lt?.props.blockDeviceMappings?.[0]?.ebs;
        pools.push({
          record: r,
          cloud: "aws",
          region,
          label: String(p.labels?.["pitchey.io/pool"] ?? p.nodeGroupName ?? r.name),
          machines,
          spot: p.capacityType === "SPOT",
          min: p.scalingConfig?.minSize ?? 0,
          max: p.scalingConfig?.maxSize ?? 0,
          diskGb: Number(ebs?.volumeSize ?? p.diskSize ?? 20),
          diskType: String(ebs?.volumeType ?? "gp3"),
        });
      }
    }
    return pools;
  }

  private machine(r: CostRecord, c: Cloud, region: string, type: string, field: string): MachinePrice | undefined {
    const m = this.book.machine(c, region, type);
    if (!m) throw new PriceBookError(`price book: no price for machine type ${type} in ${c} ${region} (${r.name} ${field})`);
    return m;
  }

  /** A node less the daemons on every node (Falco, node agents, the CNI); mixed instance types pack onto the smallest. */
  private nodeShape(pool: Pool): Shape {
    const reserve = { cpu: this.book.assumption("daemonsetCpuPerNode"), memoryGiB: this.book.assumption("daemonsetMemoryGiBPerNode"), gpu: 0 };
    return smallest(pool.machines.map((m) => subtract(allocatable(pool.cloud, m), reserve)));
  }

  private extraGpuHourly(pool: Pool): number {
    if (!pool.extraGpu) return 0;
    const gpu = this.book.gpu(pool.cloud, pool.region, pool.extraGpu.type)!;
    return (pool.spot ? gpu.spotHourly : gpu.onDemandHourly) * pool.extraGpu.count;
  }

  private hourlyOf(pool: Pool, bound: "floor" | "ceiling"): number {
    const prices = pool.machines.map((m) => (pool.spot ? m.spotHourly : m.onDemandHourly));
    return (bound === "floor" ? Math.min(...prices) : Math.max(...prices)) + this.extraGpuHourly(pool);
  }

  /** Processors' pods on each pool: per-processor cost and the nodes each pool needs at min and max replicas. */
  private processorsOn(pools: Pool[]): Map<string, Range> {
    const deployments = this.records.filter((r) => r.type === "kubernetes:apps/v1:Deployment" && poolOfDeployment(r));
    const needs = new Map<string, Range>();
    const byPool = new Map<string, { min: Shape[]; max: Shape[] }>();
    for (const d of deployments) {
      const poolName = poolOfDeployment(d)!;
      const pool = pools.find((p) => p.label === poolName);
      if (!pool) continue;
      const spec = d.props.spec?.template?.spec ?? {};
      const pod = this.podShape(spec);
      const so = this.records.find(
        (r) => r.type === "kubernetes:keda.sh/v1alpha1:ScaledObject" && r.props.spec?.scaleTargetRef?.name === (d.props.metadata?.name ?? d.name),
      );
      const min = Number(so?.props.spec?.minReplicaCount ?? d.props.spec?.replicas ?? 1);
      const max = Number(so?.props.spec?.maxReplicaCount ?? d.props.spec?.replicas ?? 1);
      const node = this.nodeShape(pool);
      const share = dominantShare(pod, node);
      const floorHourly = this.hourlyOf(pool, "floor");
      const ceilingHourly = this.hourlyOf(pool, "ceiling");
      const env = envOf(spec);
      const concurrency = Number(env.MAX_CONCURRENT_JOBS ?? 1) || 1;
      const podHourly = podHourlyPrice(this.book, pool.cloud, pod, pool.machines, pool.spot, this.extraGpuHourly(pool));
      const derived = jobSecondPrice(podHourly, concurrency);
      const p95 = Number(d.props.metadata?.annotations?.["pitchey.io/latency-p95-seconds"]);
      const configured = env.JOB_COST_PER_SECOND_USD !== undefined ? Number(env.JOB_COST_PER_SECOND_USD) : undefined;
      const name = String(d.props.metadata?.name ?? d.name);
      this.processors.push({
        processor: name,
        pool: pool.label,
        machineType: pool.machines.map((m) => m.type).join("|"),
        spot: pool.spot,
        replicas: { floor: min, ceiling: max },
        nodesAlone: { floor: nodesNeeded(Array(min).fill(pod), node), ceiling: nodesNeeded(Array(max).fill(pod), node) },
        podHourly,
        maxConcurrentJobs: concurrency,
        derivedCostPerSecondUsd: derived,
        ...(configured !== undefined ? { configuredCostPerSecondUsd: configured } : {}),
        ...(Number.isFinite(p95) && p95 > 0 ? { latencyP95Seconds: p95, costPerJobAtP95Usd: (configured ?? derived) * p95 } : {}),
      });
      // The pods' share of their nodes is attributed to the processor; the pool's line keeps the rest.
      const hourly = { floor: min * share * floorHourly, ceiling: max * share * ceilingHourly };
      this.add(d, `${name} pods on ${pool.label} (${share.toFixed(3)} of a ${pool.machines[0].type} each)`, "pod-hour", { floor: min, ceiling: max }, share * ceilingHourly, hourly);
      const held = this.attributed.get(pool.label) ?? { floor: 0, ceiling: 0 };
      this.attributed.set(pool.label, { floor: held.floor + hourly.floor, ceiling: held.ceiling + hourly.ceiling });
      const entry = byPool.get(pool.label) ?? { min: [], max: [] };
      entry.min.push(...Array(min).fill(pod));
      entry.max.push(...Array(max).fill(pod));
      byPool.set(pool.label, entry);
    }
    for (const pool of pools) {
      const pods = byPool.get(pool.label);
      if (!pods) continue;
      const node = this.nodeShape(pool);
      const atMin = nodesNeeded(pods.min, node);
      const atMax = nodesNeeded(pods.max, node);
      if (atMax > pool.max) {
        this.warnings.push(
          `pool ${pool.label}: processors at maxReplicas need ${Number.isFinite(atMax) ? atMax : "more than any"} ${pool.machines[0].type} node(s), but the pool's maxNodes is ${pool.max}: scale-out stops at the pool's limit`,
        );
      }
      needs.set(pool.label, { floor: clamp(atMin, pool.min, pool.max), ceiling: clamp(atMax, pool.min, pool.max) });
    }
    return needs;
  }

  private podShape(spec: Record<string, any>): Shape {
    const containers: any[] = Array.isArray(spec.containers) ? spec.containers : [];
    const sum = (key: string) => containers.reduce((n, c) => n + (parseQuantity(c.resources?.requests?.[key] ?? c.resources?.limits?.[key]) || 0), 0);
    const rc = spec.runtimeClassName
      ? this.records.find((r) => r.type === "kubernetes:node.k8s.io/v1:RuntimeClass" && (r.props.metadata?.name ?? r.name) === spec.runtimeClassName)
      : undefined;
    const overhead = rc?.props.overhead?.podFixed ?? {};
    return {
      cpu: sum("cpu") + (parseQuantity(overhead.cpu) || 0),
      memoryGiB: (sum("memory") + (parseQuantity(overhead.memory) || 0)) / 2 ** 30,
      gpu: sum("nvidia.com/gpu"),
    };
  }

  private priceNodes(pool: Pool, needed: Range | undefined): void {
    const nodes = needed ?? { floor: pool.min, ceiling: pool.max };
    const floorHourly = this.hourlyOf(pool, "floor");
    const ceilingHourly = this.hourlyOf(pool, "ceiling");
    const kind = `${pool.spot ? "spot " : ""}${pool.machines.map((m) => m.type).join("|")}${pool.extraGpu ? ` + ${pool.extraGpu.count} × ${pool.extraGpu.type}` : ""}`;
    // Processors' pods carry their share of these nodes (their own line items); the pool's line is what is left.
    const held = this.attributed.get(pool.label) ?? { floor: 0, ceiling: 0 };
    const r = pool.record;
    this.add(r, `${pool.label} nodes (${kind}), ${nodes.floor}–${nodes.ceiling} of ${pool.min}–${pool.max}, less the processors' share`, "node-hour", nodes, ceilingHourly, {
      floor: nodes.floor * floorHourly - held.floor,
      ceiling: nodes.ceiling * ceilingHourly - held.ceiling,
    });
    if (!needed) this.warnings.push(`pool ${pool.label}: no processor runs on it; priced at its minNodes–maxNodes (${pool.min}–${pool.max})`);
    const disk = this.book.disk(pool.cloud, pool.region, pool.diskType);
    if (!disk) {
      throw new PriceBookError(`price book: no price for disk type ${pool.diskType} in ${pool.cloud} ${pool.region} (${r.name})`);
    }
    this.add(r, `${pool.label} boot disks (${pool.diskGb} GB ${pool.diskType} per node)`, "GB-month", { floor: nodes.floor * pool.diskGb, ceiling: nodes.ceiling * pool.diskGb }, this.perHour(disk.perGbMonth));
  }
}

/**
 * What one job-second costs: the pod's hourly share of its node spread over the jobs it runs at once. A pod that runs
 * fewer jobs than its concurrency costs more per job; this is the figure at full use, which is what capacity is sized for.
 */
export function jobSecondPrice(podHourly: number, maxConcurrentJobs: number): number {
  return podHourly / 3600 / Math.max(1, maxConcurrentJobs);
}

/** The hourly price of a pod: its dominant share of one node's allocatable (after daemons) times the node's price. */
export function podHourlyPrice(book: PriceBook, cloud: Cloud, pod: Shape, machines: readonly MachinePrice[], spot: boolean, extraGpuHourly = 0): number {
  const reserve = { cpu: book.assumption("daemonsetCpuPerNode"), memoryGiB: book.assumption("daemonsetMemoryGiBPerNode"), gpu: 0 };
  const node = smallest(machines.map((m) => subtract(allocatable(cloud, m), reserve)));
  const hourly = Math.max(...machines.map((m) => (spot ? m.spotHourly : m.onDemandHourly))) + extraGpuHourly;
  return dominantShare(pod, node) * hourly;
}

const smallest = (shapes: Shape[]) => shapes.reduce((a, b) => (a.cpu * a.memoryGiB <= b.cpu * b.memoryGiB ? a : b));

const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));

function envOf(spec: Record<string, any>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) {
    for (const e of Array.isArray(c.env) ? c.env : []) if (typeof e.value === "string") env[e.name] = e.value;
  }
  return env;
}

/** The pool a Deployment runs on: its `pitchey.io/pool` node selector, or the first required node-affinity term's. */
function poolOfDeployment(d: CostRecord): string | undefined {
  const spec = d.props.spec?.template?.spec;
  if (typeof spec?.nodeSelector?.["pitchey.io/pool"] === "string") return spec.nodeSelector["pitchey.io/pool"];
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const first = Array.isArray(terms) ? terms[0] : undefined;
  const expr = Array.isArray(first?.matchExpressions) ? first.matchExpressions.find((e: any) => e.key === "pitchey.io/pool") : undefined;
  return expr?.values?.[0];
}

function parseDurationSeconds(v: unknown): number | undefined {
  const m = typeof v === "string" ? /^(\d+(?:\.\d+)?)s$/.exec(v) : null;
  return m ? Number(m[1]) : undefined;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Prices the registered resources with the book. Throws `PriceBookError` when a configured machine, GPU or disk has no price. */
export function estimateCost(records: readonly CostRecord[], book: PriceBook, opts: EstimateOptions): CostEstimate {
  const e = new Estimator(records, book, opts);
  e.run();
  const byComponent = new Map<string, { floor: number; ceiling: number }>();
  for (const i of e.items) {
    const t = byComponent.get(i.component) ?? { floor: 0, ceiling: 0 };
    byComponent.set(i.component, { floor: t.floor + i.monthly.floor, ceiling: t.ceiling + i.monthly.ceiling });
  }
  const components = [...byComponent].map(([component, t]) => ({ component, floor: round(t.floor), ceiling: round(t.ceiling) })).sort((a, b) => b.ceiling - a.ceiling);
  const total = e.items.reduce((acc, i) => ({ floor: acc.floor + i.monthly.floor, ceiling: acc.ceiling + i.monthly.ceiling }), { floor: 0, ceiling: 0 });
  return {
    currency: "USD",
    hoursPerMonth: book.hoursPerMonth,
    items: e.items,
    components,
    total: { floor: round(total.floor), ceiling: round(total.ceiling) },
    processors: e.processors,
    notPriced: e.notPriced,
    warnings: e.warnings,
    assumptions: book.data.assumptions,
  };
}

/** The monthly USD limit a budget resource carries, as a policy sees it in a plan or a preview. */
export function budgetLimitOf(r: { type: string; props: Record<string, any> }): number | undefined {
  if (r.type === "aws:budgets/budget:Budget") return r.props.limitUnit === "USD" ? Number(r.props.limitAmount) : undefined;
  if (r.type === "gcp:billing/budget:Budget") {
    const a = r.props.amount?.specifiedAmount;
    return a && (a.currencyCode ?? "USD") === "USD" ? Number(a.units ?? 0) + Number(a.nanos ?? 0) / 1e9 : undefined;
  }
  return undefined;
}
