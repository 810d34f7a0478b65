import { describePolicies } from "./harness";
import { edgeCases } from "./cases/edge";

describePolicies(edgeCases);
