/** testbed gherkin/sync-payload.feature through @flagd-ts/provider (evaluation v2 over gRPC) against our daemon. */
import { defineFeatureSuite } from "./feature-runner.js";

defineFeatureSuite("sync-payload.feature", "provider");
