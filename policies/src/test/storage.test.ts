import { describePolicies } from "./harness";
import { storageCases } from "./cases/storage";

describePolicies(storageCases);
