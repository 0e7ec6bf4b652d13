/** testbed gherkin/evaluation.feature through @flagd-ts/provider (evaluation v2 over gRPC) against our daemon. */
import { defineFeatureSuite } from "./feature-runner.js";

defineFeatureSuite("evaluation.feature", "provider");
