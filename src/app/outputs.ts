import { readState } from "../plan/read.js";
import { registry } from "../resources/registry.js";
import { stackOutputs, type StackOutputs } from "../stack/outputs.js";
import type { AppIO } from "./io.js";
import { explain, prepare, specFileOf, type StackTarget } from "./session.js";
import { alignColumns } from "../text/table.js";

export interface OutputsOptions extends StackTarget {
  readonly json: boolean;
}

/** `chatctl outputs`: what clients, CI and other stacks need from a deployed stack. Exit 2 until it is deployed. */
export async function runOutputs(opts: OutputsOptions, io: AppIO): Promise<number> {
  const p = await prepare(specFileOf(opts), opts, io, { bundle: false });
  const state = await readState(p.ctx, p.desired, registry, { concurrency: 8 }).catch(explain);
  const outputs = stackOutputs({ spec: p.spec, region: p.region, accountId: p.ctx.accountId, environment: p.environment }, state.outputs);
  if (opts.json) io.out(JSON.stringify(outputs, null, 2));
  else for (const line of outputsText(outputs)) io.out(line);
  return outputs.url === undefined ? 2 : 0;
}

export function outputsText(o: StackOutputs): string[] {
  const missing = "(not deployed yet: run chatctl apply)";
  const rows: string[][] = [
    ["Stack", o.stack],
    ...(o.environment !== undefined ? [["Environment", o.environment]] : []),
    ["Account", o.accountId],
    ["Region", o.region],
    ["WebSocket URL", o.url ?? missing],
    ["Management endpoint", o.managementEndpoint ?? missing],
    ["API id", o.apiId ?? missing],
    ["Stage", o.stage],
  ];
  const named = (kind: string, all: StackOutputs["tables"]) => Object.entries(all).map(([k, v]) => [`${kind} ${k}`, v.name, v.arn ?? "(not created)"]);
  const resources = [...named("table", o.tables), ...named("function", o.functions)];
  return [...alignColumns(rows), ...(resources.length > 0 ? ["", ...alignColumns([["RESOURCE", "NAME", "ARN"], ...resources])] : [])];
}
