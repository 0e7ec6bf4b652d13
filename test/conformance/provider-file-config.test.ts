/** testbed gherkin/config.feature (@file) through @flagd-ts/provider's file resolver on the launchpad's flag file. */
import { defineFeatureSuite } from "./feature-runner.js";

defineFeatureSuite("config.feature", "file");
