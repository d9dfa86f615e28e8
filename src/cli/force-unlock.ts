import { Command, Option } from "clipanion";
import { ChatctlCommand } from "./base.js";

export class ForceUnlockCommand extends ChatctlCommand {
  static override paths = [["force-unlock"]];
  static override usage = Command.Usage({
    description: "Remove a stack's lock left behind by a run that died",
    details: `
      apply and destroy hold a lock per stack in the account (DynamoDB table \`chatctl-locks\`), renewed while they run; a run that was killed leaves it behind for up to 30 seconds (at once replaced on the same machine). Use this only when you are sure no run is still changing the stack.
    `,
    examples: [["Unlock stack my-chat", "chatctl force-unlock my-chat"]],
  });

  stack = Option.String({ name: "stack" });

  async execute(): Promise<number> {
    const { createClients } = await import("../aws/clients.js");
    const { forceUnlock } = await import("../stack/lock.js");
    const holder = await forceUnlock(createClients(this.awsConfig()), this.stack);
    this.out(holder ? `Removed the lock on stack ${this.stack} held by ${holder.owner} (${holder.operation}) since ${holder.since}.` : `Stack ${this.stack} was not locked.`);
    return 0;
  }
}
