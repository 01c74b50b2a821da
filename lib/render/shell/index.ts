export * from "./base";
export * from "./firewall";
export * from "./ipset";
export * from "./host-state";
export * from "./network";
export * from "./ovs";
export * from "./converge";
export * from "./library";
export { usedHelpers } from "./select";
