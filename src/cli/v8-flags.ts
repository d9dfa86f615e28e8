import { keepYoungGenerationSmall } from "../local/heap-flags.js";

/**
 * V8 settings for the long-running `chatctl dev` process, imported by bin/chatctl.js
 * ahead of everything else: the young generation grows while modules load. Set from
 * inside the process because re-executing node with flags would add a second process,
 * whose ~40 MB cost more than they save. Measured at idle after apply, 148-154 MB ->
 * ~113 MB (with the GC after apply), and no rise in CPU per delivery at 1,000
 * connections: the gateway's garbage is short-lived, so small scavenges stay cheap.
 * Other commands run for seconds and keep V8's defaults.
 */
if (process.argv[2] === "dev") keepYoungGenerationSmall();
