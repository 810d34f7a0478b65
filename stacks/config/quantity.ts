/** Kubernetes quantities as plain numbers: one parser for the config checks and the components. */
export { QUANTITY_PATTERN, parseQuantity } from "../../components/quantity";
