export * from "./errors";
export * from "./ip";
export * from "./mac";
export * from "./names";
export * from "./shell";
export * from "./port";
export * from "./peer";
export * from "./rate";
