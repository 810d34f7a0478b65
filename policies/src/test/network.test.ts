import { describePolicies } from "./harness";
import { networkCases } from "./cases/network";

describePolicies(networkCases);
