import { describePolicies } from "./harness";
import { clusterStateCases } from "./cases/cluster-state";

describePolicies(clusterStateCases);
