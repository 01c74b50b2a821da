export * from "./spec";
export * from "./lab";
export * from "./issues";
export * from "./resolve";
export * from "./resolve-security";
export { OVS_RUN_ROOT } from "./resolve-clusters";
export { QOS_HZ, QUANTUM_MAX, QUANTUM_MIN, minBurst, qosMajor } from "./resolve-qos";
export * from "./pod-network";
