export * from "./stage";
export * from "./script";
export * from "./lab";
export * from "./emulated";
export * from "./segments";
export * from "./inventory";
