export * from "./net";
export * from "./model";
export * from "./render";
export * from "./targets";
export * from "./constructs";
