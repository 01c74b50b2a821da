export * from "./backend";
export * from "./compute";
export * from "./network-mode";
export * from "./nodes";
export * from "./lab";
export * from "./stage-hook";
export * from "./security-group";
