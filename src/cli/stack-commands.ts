import type { CommandClass } from "clipanion";

// The reconcile loop: plan, apply, destroy, status, dev.
export const stackCommands: CommandClass[] = [];
