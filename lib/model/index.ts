export * from "./spec";
export * from "./lab";
export * from "./issues";
export * from "./resolve";
export * from "./resolve-security";
export { OVS_RUN_ROOT } from "./resolve-clusters";
