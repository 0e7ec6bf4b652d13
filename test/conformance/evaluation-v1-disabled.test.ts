/** testbed gherkin/disabled.feature through flagd.evaluation.v1 (Connect JSON) against our daemon, to keep the APIs consistent with v2. */
import { defineFeatureSuite } from "./feature-runner.js";

defineFeatureSuite("disabled.feature", "evaluation-v1");
