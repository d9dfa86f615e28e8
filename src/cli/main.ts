// The AWS SDK warns on every Node 20 process about a requirement of its releases
// from 2027; users can do nothing about it in the middle of a command. Set before
// any SDK module loads (they are imported lazily by the commands).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { Builtins, Cli } from "clipanion";
import { ChatctlCli } from "./help.js";
import { readFileSync } from "node:fs";
import { opsCommands } from "./ops-commands.js";
import { stackCommands } from "./stack-commands.js";
import { colorEnabled } from "./base.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

export function buildCli(enableColors = colorEnabled(process.stdout)): ChatctlCli {
  const cli = new ChatctlCli({ binaryLabel: "chatctl", binaryName: "chatctl", binaryVersion: pkg.version, enableCapture: false, enableColors });
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  cli.registerAll([...stackCommands, ...opsCommands]);
  return cli;
}

const isEntry = process.argv[1] !== undefined && /(?:^|[/\\])(?:chatctl(?:\.js)?|main\.js)$/.test(process.argv[1]);
if (isEntry) {
  const exitCode = await buildCli().run(process.argv.slice(2), Cli.defaultContext);
  process.exitCode = process.exitCode ?? exitCode;
}
