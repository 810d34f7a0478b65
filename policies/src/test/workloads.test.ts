import { describePolicies } from "./harness";
import { workloadCases } from "./cases/workloads";

describePolicies(workloadCases);
