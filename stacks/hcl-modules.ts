// The HCL modules the stack still calls as module blocks: plain data, without cdktf, so a command can
// read it (commands/cdktf/state-check.ts) without loading the synthesis.

/** The HCL modules this stack still calls, by module name. */
export const HCL_MODULES = ["storage", "ssm", "vpc_endpoints", "route53"] as const;
