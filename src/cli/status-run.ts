import { UserError } from "../errors.js";
import { planStack } from "../stack/run.js";
import { stackStatus, type ComponentStatus } from "../stack/status.js";
import type { PreparedStack } from "../stack/prepare.js";
import type { StatusCommand } from "./status.js";
import { specFileForStack } from "./find-spec.js";
import { explain, prepare } from "./stack-session.js";
import { paint } from "../text/ansi.js";
import { alignColumns } from "../text/table.js";

export async function runStatus(cmd: StatusCommand): Promise<number> {
  // As deploy finds it: by stack name, else ./chat.yaml or specs/chat.yaml.
  cmd.file = specFileForStack(cmd.stack, cmd.file, cmd.fileGiven);
  // Code drift needs the bundles; a handler that does not compile must not hide the rest.
  let p: PreparedStack;
  let codeChecked = true;
  try {
    p = await prepare(cmd, { bundle: true });
  } catch (err) {
    if (!(err instanceof UserError) || !/Nothing was changed: fix the handler/.test(err.message)) throw err;
    cmd.err(`warning: a handler does not compile, so code drift is not checked:\n${err.message.split("\n")[0]}`);
    p = await prepare(cmd, { bundle: false });
    codeChecked = false;
  }
  if (cmd.stack !== undefined && cmd.stack !== p.spec.stack) {
    throw new UserError(`${p.specFile} describes stack ${p.spec.stack}, not ${cmd.stack}; name the right file with -f`);
  }
  const { plan, state } = await planStack(p, "apply", { deleteData: false }).catch(explain);
  const status = await stackStatus(p.ctx, plan, state, { codeChecked });
  if (cmd.json) {
    cmd.out(JSON.stringify(status, null, 2));
  } else {
    cmd.out(`Stack ${status.stack} in ${status.region}`);
    cmd.out("");
    const rows = status.components.map((c) => [c.kind, c.name, mark(c, cmd.color), detail(c)]);
    for (const line of alignColumns([["KIND", "NAME", "STATE", "DETAIL"], ...rows])) cmd.out(line);
    cmd.out("");
    cmd.out(status.url ? `WebSocket URL: ${status.url}` : "WebSocket URL: (not deployed yet: run chatctl apply)");
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
