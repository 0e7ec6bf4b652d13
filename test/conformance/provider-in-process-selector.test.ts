/** testbed gherkin/selector.feature (@in-process) through @flagd-ts/provider's in-process resolver against our daemon. */
import { defineFeatureSuite } from "./feature-runner.js";

defineFeatureSuite("selector.feature", "in-process");
