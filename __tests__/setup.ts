// The cdktf jest matchers (toHaveResourceWithProperties, ...).
import { Testing } from "cdktf";
Testing.setupJest();
