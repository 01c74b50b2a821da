// What a lab is written with: the constructs and the values they take (ports, peers, addresses).
export * from "./net";
export * from "./constructs";
// The layers under them, for tools and tests that work with resolved labs and rendered stages.
export * as model from "./model";
export * as render from "./render";
export * as targets from "./targets";
