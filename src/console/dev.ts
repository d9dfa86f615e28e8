import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApplyResult } from "../apply/executor.js";
import type { GatewayObserver } from "../local/gateway/index.js";
import type { ConnectionListener } from "../local/models/connections.js";
import type { Plan } from "../plan/types.js";
import type { StackResource } from "./events.js";
import { ConsoleHub, type HubOptions } from "./hub.js";
import { createConsoleServer } from "./server.js";

/** What an apply (or an attempt at one) left behind, as `chatctl dev` tells it. */
export interface DevApply {
  readonly stack: string;
  readonly region: string;
  readonly stages: ReadonlyArray<{ readonly stage: string; readonly url: string }>;
  readonly plan: Plan | undefined;
  readonly result: ApplyResult | undefined;
  readonly ok: boolean;
  readonly summary: string;
}

export interface DevConsole {
  readonly hub: ConsoleHub;
  /** For startLocalCloud: the gateway's observer and the page's request handler. */
  readonly cloud: {
    readonly observer: GatewayObserver;
    readonly onRequest: (req: IncomingMessage, res: ServerResponse) => boolean;
  };
  /** Once the dev server listens: its port (the console answers only there) and its @connections model, followed. */
  listening(port: number, connections: { subscribe(listener: ConnectionListener): () => void }): void;
  functionLog(functionName: string, message: string): void;
  error(message: string): void;
  applied(a: DevApply): void;
  close(): void;
}

/** START/END/REPORT, three of the four lines of a one-line invocation: told apart without a regex. */
function isPlatformLine(message: string): boolean {
  return message.startsWith("START RequestId: ") || message.startsWith("END RequestId: ") || message.startsWith("REPORT RequestId: ");
}
/** What console.log writes in Lambda: "2026-02-09T12:00:00.000Z\t{requestId}\tINFO\t{message}". */
const CONSOLE_LINE = /^\d{4}-\d\d-\d\dT[\d:.]+Z\t[^\t]*\t([A-Z]+)\t([\s\S]*)$/;

/** The dev console of one `chatctl dev`: its hub, its page, and the calls src/app/dev.ts feeds it through. */
export function createDevConsole(options: HubOptions = {}): DevConsole {
  const hub = new ConsoleHub(options);
  let port = 0;
  let unfollow = (): void => undefined;
  const server = createConsoleServer({ hub, port: () => port });
  // An apply that fails before planning knows no stack: the page keeps showing the last one it had.
  let previous: { stack: string; region: string; stages: DevApply["stages"]; resources: readonly StackResource[] } = { stack: "", region: "", stages: [], resources: [] };
  return {
    hub,
    cloud: { observer: hub.observer, onRequest: (req, res) => server.handle(req, res) },
    listening(p, connections) {
      port = p;
      unfollow = hub.follow(connections);
    },
    functionLog(fn, message) {
      // START/END/REPORT say what the "in" and "connect" events already say (which function, how long).
      if (isPlatformLine(message)) return;
      const m = CONSOLE_LINE.exec(message);
      const text = m?.[2] ?? message;
      hub.log(fn, m?.[1] ?? "", text.endsWith("\n") ? text.slice(0, -1) : text);
    },
    error(message) {
      hub.record({ kind: "error", message });
    },
    applied(a) {
      const known = a.stack !== "";
      previous = {
        stack: known ? a.stack : previous.stack,
        region: known ? a.region : previous.region,
        stages: known ? a.stages : previous.stages,
        resources: a.plan ? resourcesOf(a.plan, a.result) : previous.resources,
      };
      hub.setStack({ ...previous, lastApply: { at: Date.now(), ok: a.ok, summary: a.summary } });
    },
    close() {
      unfollow();
      server.close();
      hub.close();
    },
  };
}

/** Each resource of the plan with how the apply left it (the plan's action when nothing ran). */
function resourcesOf(plan: Plan, result: ApplyResult | undefined): StackResource[] {
  const words: Record<string, string> = { noop: "unchanged", create: "to create", update: "to update", replace: "to replace", delete: "to delete" };
  return plan.steps.map((s) => ({ kind: s.kind, name: s.name, state: result?.outcomes[s.id] ?? words[s.action] ?? s.action }));
}
