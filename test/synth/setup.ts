import { Testing } from "cdktf";

// Adds toHaveResource, toHaveResourceWithProperties, toBeValidTerraform, ...
Testing.setupJest();
