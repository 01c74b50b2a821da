export * from "./hook";
export * from "./payload";
export * from "./terraform-literal";
