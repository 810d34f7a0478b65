import { describePolicies } from "./harness";
import { clusterCases } from "./cases/clusters";

describePolicies(clusterCases);
