/**
 * `--local` is both a switch (the running dev server) and an option with a value
 * (which one), and clipanion takes a value for such an option only as
 * `--local=PORT`: `--local 4510` left 4510 to the next positional (`status
 * --local 4510` read a stack named "4510"). A URL right after `--local` is its
 * value; so is a number when a chatctl dev listens on that port (`isDevPort`).
 * Any other number stays a positional: `lambda logs fn --local 1440` means the
 * last 1,440 minutes of the dev server's logs.
 */
export function joinOptionValues(argv: readonly string[], isDevPort: (port: number) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (arg === "--local" && next !== undefined && isLocalTarget(next, isDevPort)) {
      out.push(`--local=${next}`);
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

function isLocalTarget(value: string, isDevPort: (port: number) => boolean): boolean {
  if (/^https?:\/\//.test(value)) return true;
  if (!/^\d{1,5}$/.test(value)) return false;
  const port = Number(value);
  return port >= 1 && port <= 65535 && isDevPort(port);
}
