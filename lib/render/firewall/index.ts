export * from "./ruleset";
export * from "./restore";
export * from "./stages";
