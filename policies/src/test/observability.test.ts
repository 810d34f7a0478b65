import { describePolicies } from "./harness";
import { observabilityCases } from "./cases/observability";

describePolicies(observabilityCases);
