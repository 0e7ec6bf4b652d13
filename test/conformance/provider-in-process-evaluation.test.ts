/** testbed gherkin/evaluation.feature (@in-process) through @flagd-ts/provider's in-process resolver against our daemon. */
import { defineFeatureSuite } from "./feature-runner.js";

defineFeatureSuite("evaluation.feature", "in-process");
