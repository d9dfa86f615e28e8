import { planStack } from "../stack/run.js";
import { stackOutputs } from "../stack/outputs.js";
import { stackStatus, type ComponentStatus } from "../stack/status.js";
import { HandlerBuildError, type PreparedStack } from "../stack/prepare.js";
import type { AppIO } from "./io.js";
import { explain, prepare, refuseOtherStack, specFileOf, type StackTarget } from "./session.js";
import { paint } from "../text/ansi.js";
import { alignColumns } from "../text/table.js";

export interface StatusOptions extends StackTarget {
  readonly json: boolean;
}

/** `chatctl status`: every component, its health and drift; exit 2 when something is missing or differs. */
export async function runStatus(opts: StatusOptions, io: AppIO): Promise<number> {
  const specFile = specFileOf(opts);
  // Code drift needs the bundles; a handler that does not compile must not hide the rest.
  let p: PreparedStack;
  let codeChecked = true;
  try {
    p = await prepare(specFile, opts, io, { bundle: true });
  } catch (err) {
    if (!(err instanceof HandlerBuildError)) throw err;
    io.err(`warning: a handler does not compile, so code drift is not checked:\n${err.message.split("\n")[0]}`);
    p = await prepare(specFile, opts, io, { bundle: false });
    codeChecked = false;
  }
  refuseOtherStack(p.specFile, p.spec.stack, opts.stack);
  const { plan, state } = await planStack(p, "apply", { deleteData: false }).catch(explain);
  const status = await stackStatus(p.ctx, plan, state, { codeChecked });
  if (opts.json) {
    const outputs = stackOutputs({ spec: p.spec, region: p.region, accountId: p.ctx.accountId, environment: p.environment }, state.outputs);
    io.out(JSON.stringify({ ...status, outputs }, null, 2));
  } else {
    io.out(`Stack ${status.stack} in ${status.region}`);
    io.out("");
    const rows = status.components.map((c) => [c.kind, c.name, mark(c, io.color), detail(c)]);
    for (const line of alignColumns([["KIND", "NAME", "STATE", "DETAIL"], ...rows])) io.out(line);
    io.out("");
    io.out(status.url ? `WebSocket URL: ${status.url}` : "WebSocket URL: (not deployed yet: run chatctl apply)");
  }
  return status.healthy ? 0 : 2;
}

function mark(c: ComponentStatus, color: boolean): string {
  return paint(color, c.state === "ok" ? "green" : c.state === "drift" || c.state === "orphan" ? "yellow" : "red", c.state);
}

function detail(c: ComponentStatus): string {
  const parts = [c.health, c.drift ? `differs: ${c.drift.join(", ")}` : undefined, c.state === "orphan" ? "no longer in chat.yaml: apply deletes it" : undefined];
  return parts.filter(Boolean).join("; ");
}
