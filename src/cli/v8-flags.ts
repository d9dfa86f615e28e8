import { setFlagsFromString } from "node:v8";

/**
 * V8 settings for the long-running `chatctl dev` process, imported by bin/chatctl.js
 * ahead of everything else: the young generation grows while modules load, and once
 * grown its pages stay resident. Set from inside the process because re-executing
 * node with flags would add a second process, whose ~40 MB cost more than they save.
 *
 * The young generation starts at 1 MB per semi-space and V8 doubles it (up to 16 MB,
 * so 32 MB of resident pages) once a scavenge keeps much alive; loading the CLI and
 * apply's bundling do that, and an idle dev server never gives the pages back.
 * Growth factor 1 keeps the starting size: measured at idle after apply, 148-154 MB
 * -> ~120 MB, with no rise in CPU per delivery at 1,000 connections (the gateway's
 * garbage is short-lived, so small scavenges stay cheap). `--max-semi-space-size`
 * would be the direct knob, but V8 reads it only when the heap is created. The
 * functions' workers share the flag; their young generation is capped by the runner.
 * Other commands run for seconds and keep V8's defaults.
 */
if (process.argv[2] === "dev") setFlagsFromString("--semi-space-growth-factor=1");
