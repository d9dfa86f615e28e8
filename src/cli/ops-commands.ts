import type { CommandClass } from "clipanion";

// The ad-hoc operations of the original script.sh, under their old and grouped names.
export const opsCommands: CommandClass[] = [];
