import { isRoot } from "./netns";

/** Kernel and e2e tests change network state: without root they fail with how to run them. */
export function requireRoot(): void {
  if (!isRoot()) {
    throw new Error("this test needs root to create network namespaces: run `sudo npm test` (or `sudo npm run test:kernel`).");
  }
}
