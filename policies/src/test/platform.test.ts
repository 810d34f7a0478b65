import { describePolicies } from "./harness";
import { platformCases } from "./cases/platform";

describePolicies(platformCases);
