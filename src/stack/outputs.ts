import type { ChatSpec } from "../spec/schema.js";
import { functionName, tableName } from "../spec/names.js";
import type { Outputs } from "../resources/refs.js";

/** What other tools need from a deployed stack: `chatctl outputs`, and `status --json`. */
export interface StackOutputs {
  readonly stack: string;
  readonly environment?: string;
  readonly region: string;
  readonly accountId: string;
  /** wss:// on AWS (ws:// in the local cloud); absent until the stage exists. */
  readonly url?: string;
  /** Where @connections calls go: https://{apiId}.execute-api.{region}.amazonaws.com/{stage} on AWS. */
  readonly managementEndpoint?: string;
  readonly apiId?: string;
  readonly stage: string;
  readonly tables: Readonly<Record<string, { readonly name: string; readonly arn?: string }>>;
  readonly functions: Readonly<Record<string, { readonly name: string; readonly arn?: string }>>;
}

export interface OutputsSource {
  readonly spec: ChatSpec;
  readonly region: string;
  readonly accountId: string;
  readonly environment?: string | undefined;
}

export function stackOutputs(src: OutputsSource, outputs: Outputs): StackOutputs {
  const url = outputs.stage?.invokeUrl;
  const apiId = outputs.api?.apiId;
  const entries = (names: readonly string[], id: (n: string) => string, name: (n: string) => string, arn: string) =>
    Object.fromEntries(names.map((n) => {
      const o = outputs[id(n)];
      return [n, { name: name(n), ...(o?.[arn] !== undefined ? { arn: o[arn] } : {}) }];
    }));
  return {
    stack: src.spec.stack,
    ...(src.environment !== undefined ? { environment: src.environment } : {}),
    region: src.region,
    accountId: src.accountId,
    ...(url !== undefined ? { url, managementEndpoint: url.replace(/^ws(s?):/, "http$1:") } : {}),
    ...(apiId !== undefined ? { apiId } : {}),
    stage: src.spec.api.stage,
    tables: entries(Object.keys(src.spec.tables), (t) => `table.${t}`, (t) => tableName(src.spec, t), "tableArn"),
    functions: entries(Object.keys(src.spec.functions), (f) => `function.${f}`, (f) => functionName(src.spec, f), "functionArn"),
  };
}
