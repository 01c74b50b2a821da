export * from "./backend";
export * from "./compute";
export * from "./lab";
export * from "./stage-hook";
