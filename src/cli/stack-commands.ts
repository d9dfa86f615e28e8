import type { CommandClass } from "clipanion";
import { ApplyCommand } from "./apply.js";
import { DeployCommand } from "./deploy.js";
import { DestroyCommand } from "./destroy.js";
import { DevCommand } from "./dev.js";
import { ForceUnlockCommand } from "./force-unlock.js";
import { PlanCommand } from "./plan.js";
import { SchemaCommand } from "./schema.js";
import { StatusCommand } from "./status.js";

// The reconcile loop: plan, apply, destroy, status, dev.
export const stackCommands: CommandClass[] = [PlanCommand, ApplyCommand, DestroyCommand, StatusCommand, DevCommand, DeployCommand, ForceUnlockCommand, SchemaCommand];
