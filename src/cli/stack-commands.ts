import type { CommandClass } from "clipanion";
import { ApplyCommand } from "./apply.js";
import { DeployCommand } from "./deploy.js";
import { DestroyCommand } from "./destroy.js";
import { DevCommand } from "./dev.js";
import { ForceUnlockCommand } from "./force-unlock.js";
import { InitCommand } from "./init.js";
import { OutputsCommand } from "./outputs.js";
import { PlanCommand } from "./plan.js";
import { SchemaCommand } from "./schema.js";
import { StatusCommand } from "./status.js";

// A new project, then the reconcile loop: plan, apply, destroy, status, dev.
export const stackCommands: CommandClass[] = [InitCommand, PlanCommand, ApplyCommand, DestroyCommand, StatusCommand, OutputsCommand, DevCommand, DeployCommand, ForceUnlockCommand, SchemaCommand];
