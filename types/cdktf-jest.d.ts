// Types of the cdktf jest matchers that Testing.setupJest() installs.
import "cdktf/lib/testing/adapters/jest";
