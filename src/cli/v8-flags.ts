import { keepDevHeapSmall } from "../local/heap-flags.js";

/**
 * V8 settings for the long-running `chatctl dev` process (a capped young generation, a
 * slower-growing old one), imported by bin/chatctl.js ahead of everything else: the
 * young generation grows while modules load. Set from inside the process because
 * re-executing node with flags would add a second process, whose ~40 MB cost more
 * than they save. Measured against main, interleaved, at 1,000
 * connections: idle after apply 151 -> 126-128 MB (with the GC after apply), peak
 * 311-312 -> 258-286 MB, CPU per delivery within the run-to-run noise.
 * Other commands run for seconds and keep V8's defaults.
 */
if (process.argv[2] === "dev") keepDevHeapSmall();
