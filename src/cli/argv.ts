/**
 * `--local` is both a switch (the running dev server) and an option with a value
 * (which one), and clipanion takes a value for such an option only as
 * `--local=PORT`: `--local 4510` left 4510 to the next positional (`status
 * --local 4510` read a stack named "4510"). A port (1024-65535: dev never binds
 * a privileged one) or a URL right after `--local` is its value.
 */
export function joinOptionValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (arg === "--local" && next !== undefined && isLocalTarget(next)) {
      out.push(`--local=${next}`);
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

function isLocalTarget(value: string): boolean {
  if (/^https?:\/\//.test(value)) return true;
  if (!/^\d{4,5}$/.test(value)) return false;
  const port = Number(value);
  return port >= 1024 && port <= 65535;
}
