import { describe, expect, it } from "vitest";
import { isRetryable } from "../../src/aws/errors.js";
import { AwsError } from "../../src/local/service.js";

describe("isRetryable", () => {
  it("retries throttling under every name AWS services use", () => {
    for (const name of ["Throttling", "ThrottlingException", "TooManyRequestsException", "ProvisionedThroughputExceededException"]) {
      expect(isRetryable(new AwsError(name, "slow down")).retry, name).toBe(true);
    }
    expect(isRetryable(new AwsError("Whatever", "x", 429)).retry).toBe(true);
  });

  it("retries the IAM propagation error with a reason a person understands", () => {
    const v = isRetryable(new AwsError("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda."));
    expect(v).toEqual({ retry: true, reason: "waiting for the new IAM role to propagate" });
  });

  it("retries Lambda's update-in-progress conflict but not a plain conflict", () => {
    expect(isRetryable(new AwsError("ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: arn")).retry).toBe(true);
    expect(isRetryable(new AwsError("ResourceConflictException", "Function already exist: x")).retry).toBe(false);
  });

  it("retries server errors and dropped connections, never user mistakes", () => {
    expect(isRetryable(new AwsError("InternalFailure", "boom", 500)).retry).toBe(true);
    expect(isRetryable(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })).retry).toBe(true);
    expect(isRetryable(new AwsError("ValidationException", "bad name")).retry).toBe(false);
    expect(isRetryable(new AwsError("AccessDeniedException", "no", 403)).retry).toBe(false);
    expect(isRetryable("not an error").retry).toBe(false);
  });

  it("tells DynamoDB's passing limit from IAM's hard quota, which share a name", () => {
    expect(isRetryable(new AwsError("LimitExceededException", "Subscriber limit exceeded: Only 10 tables can be created, updated, or deleted simultaneously")).retry).toBe(true);
    expect(isRetryable(new AwsError("LimitExceededException", "Cannot exceed quota for PoliciesPerRole: 10", 409)).retry).toBe(false);
  });
});
