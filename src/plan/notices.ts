import type { Plan } from "./types.js";

/** Something the plan's reader must know that is no step: an account-wide setting the stack needs, say. */
export interface PlanNotice {
  readonly id: string;
  readonly title: string;
  readonly lines: readonly string[];
}

// Named here rather than imported from the stack layer: the plan knows no AWS code.
const SET_ROLE_FLAG = "--set-cloudwatch-role";
const ROLE_NAME = "chatctl-apigateway-cloudwatch";

export function planNotices(plan: Plan): PlanNotice[] {
  const notices: PlanNotice[] = [];
  const account = plan.account;
  if (plan.mode === "apply" && account !== undefined && account.apiGatewayCloudwatchRoleArn === null) {
    const state =
      account.unreadable !== undefined
        ? `settings (cloudwatchRoleArn); chatctl could not read it (${account.unreadable}: allow apigateway:GET on /account).`
        : "settings (cloudwatchRoleArn), and none is set: until one is, the access logs stay empty.";
    notices.push({
      id: "apigateway-cloudwatch-role-missing",
      title: "Note on access logs:",
      lines: [
        "API Gateway writes them only once this account and region name a CloudWatch Logs role in its API Gateway",
        state,
        "The setting is account-wide: no stack owns it, and destroy leaves it. To set it, once per account and region:",
        `chatctl apply ${SET_ROLE_FLAG} (creates role ${ROLE_NAME}; a role already set is never replaced), or`,
        "aws apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn,value=<role arn>",
      ],
    });
  }
  return notices;
}
