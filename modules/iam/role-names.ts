// The IAM role names the Iam construct creates, as far as the configuration's
// check needs them: no cdktf here, so a refused configuration is reported
// before cdktf loads (config/validate.ts).

/** IAM's limit on role names (CreateRole, RoleName: 64 characters). */
export const IAM_ROLE_NAME_MAX = 64;
/** What follows `<project>-<environment>-` in the role names, longest first. */
const ROLE_SUFFIXES = ["ecs-task-execution", "ec2-role", "ecs-task"];

/**
 * Project and environment name every role; too long, IAM refuses the first
 * role at apply. The names of the two fields are the caller's.
 */
export function checkRoleNameLength(project: unknown, environment: unknown, fields = { project: "project", environment: "environment" }): string[] {
  if (typeof project !== "string" || typeof environment !== "string") return [];
  const longest = `${project}-${environment}-${ROLE_SUFFIXES[0]}`;
  const over = longest.length - IAM_ROLE_NAME_MAX;
  return over > 0
    ? [
        `${fields.project} and ${fields.environment} make the IAM role name '${longest}' ${longest.length} characters long; ` +
          `IAM allows ${IAM_ROLE_NAME_MAX} (shorten them by ${over})`,
      ]
    : [];
}
