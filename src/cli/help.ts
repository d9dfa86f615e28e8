import { Cli, type BaseContext, type Command, type CommandClass } from "clipanion";
import { joinOptionValues } from "./argv.js";
import { runningLocalClouds } from "../local/endpoint.js";

// clipanion writes `--region #0` where a value goes and answers a typo with all 25
// usages; this gives value names, a listing by task with the grouped names beside the
// script's old ones, a help page per group (`chatctl ws --help`) and a short suggestion.

/** The value an option takes, when its name does not say it (else the name, upper-cased). */
const VALUE_NAMES: Readonly<Record<string, string>> = {
  "--endpoint-url": "URL",
  "--file": "FILE",
  "--lock-timeout": "DURATION",
  "--parallelism": "N",
  "--persist": "DIR",
  "--faults": "FILE",
  "--out": "FILE",
  "--format": "FORMAT",
  "--stack": "NAME",
  "--env": "NAME",
  "--limit": "N",
  "--role": "ARN",
  "--timeout": "SECONDS",
  "--memory": "MB",
  "--filter": "PATTERN",
  "--route-selection-expression": "EXPR",
  "--sort-key": "ATTRIBUTE",
  "--ttl-attribute": "ATTRIBUTE",
  "--chatctl": "SOURCE",
};

export function withValueNames(text: string): string {
  const named = text.replace(/(--[a-z][\w-]*)((?: #\d+)+)/g, (_all, name: string) => `${name} ${VALUE_NAMES[name] ?? name.slice(2).toUpperCase().replace(/-/g, "_")}`);
  return realignOptions(named);
}

const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "").length;

// A command's "Options" list was padded for `#0`; pad it again for the names.
function realignOptions(text: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => /^(?:\u001b\[[0-9;]*m)*Options(?:\u001b\[[0-9;]*m)*$/.test(l));
  if (start < 0) return text;
  const rows: Array<{ at: number; def: string; desc: string }> = [];
  for (let i = start + 2; i < lines.length; i++) {
    const m = /^ {2}(\S.*?) {2,}(\S.*)$/.exec(lines[i]!);
    if (!m) break;
    rows.push({ at: i, def: m[1]!, desc: m[2]! });
  }
  const width = Math.max(0, ...rows.map((r) => visible(r.def)));
  for (const r of rows) lines[r.at] = `  ${r.def}${" ".repeat(width - visible(r.def))}    ${r.desc}`;
  return lines.join("\n");
}

/** Commands without a category, in the order a user meets them. */
const SECTIONS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["Start", ["init", "dev"]],
  ["The stack in chat.yaml", ["plan", "apply", "status", "outputs", "destroy", "deploy", "force-unlock", "schema"]],
];

interface Entry {
  readonly klass: CommandClass;
  readonly name: string; // the grouped name when there is one ("ws list"), else the only one
  readonly oldName?: string; // the original script's name ("ws-list")
  readonly group?: string; // "ws"
  readonly args: string; // "<api-id> [stage]"
  readonly description: string;
  readonly category?: string;
}

export function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The one or two names nearest to `typed`, or none when nothing is close. */
export function nearest(typed: string, names: readonly string[]): string[] {
  const scored = [...new Set(names)].map((n) => ({ n, d: levenshtein(typed, n) })).sort((x, y) => x.d - y.d || (x.n < y.n ? -1 : 1));
  const best = scored[0];
  if (best === undefined || best.d > Math.max(2, Math.floor(typed.length / 3))) return [];
  return scored.filter((s) => s.d === best.d).slice(0, 2).map((s) => s.n);
}

const MAX_CALL_WIDTH = 44;

const isHelpFlag = (a: string) => a === "--help" || a === "-h";

export class ChatctlCli extends Cli {
  private readonly entries: Entry[] = [];

  registerAll(classes: readonly CommandClass[]): void {
    for (const klass of classes) this.register(klass);
    for (const klass of classes) {
      const paths = klass.paths ?? [];
      const grouped = paths.find((p) => p.length === 2);
      const flat = paths.find((p) => p.length === 1);
      const record = this.registrations.get(klass);
      const usage = record ? record.builder.usage({ detailed: true, inlineOptions: false }).usage : "";
      const first = paths[0]?.join(" ") ?? "";
      const args = usage.slice(`${this.binaryName} ${first}`.length).trim();
      this.entries.push({
        klass,
        name: (grouped ?? flat ?? []).join(" "),
        ...(grouped && flat ? { oldName: flat[0]!, group: grouped[0]! } : {}),
        args: withValueNames(args),
        description: klass.usage?.description ?? "",
        ...(klass.usage?.category !== undefined ? { category: klass.usage.category } : {}),
      });
    }
  }

  private groups(): Set<string> {
    return new Set(this.entries.flatMap((e) => (e.group ? [e.group] : [])));
  }

  private table(entries: readonly Entry[], withOld: boolean): string[] {
    const call = (e: Entry) => `${e.name}${e.args ? ` ${e.args}` : ""}`;
    // A long call goes on a line of its own rather than pushing every description right.
    const nameWidth = Math.max(...entries.map((e) => call(e).length).filter((n) => n <= MAX_CALL_WIDTH), 0);
    const oldWidth = withOld ? Math.max(...entries.map((e) => (e.oldName ?? "").length)) : 0;
    return entries.flatMap((e) => {
      const old = oldWidth > 0 ? `${(e.oldName ?? "").padEnd(oldWidth)}  ` : "";
      const rest = `${old}${e.description}`;
      const c = call(e);
      return c.length <= nameWidth ? [`  ${c.padEnd(nameWidth)}  ${rest}`] : [`  ${c}`, `  ${" ".repeat(nameWidth)}  ${rest}`];
    });
  }

  overview(): string {
    const out = [
      `chatctl ${this.binaryVersion ?? ""}: a chat.yaml into a WebSocket chat backend on AWS, and the same stack on this machine`,
      "",
      "Usage: chatctl <command> [options]         chatctl <command> --help: its options and examples",
    ];
    const byName = new Map(this.entries.map((e) => [e.name, e]));
    for (const [title, names] of SECTIONS) {
      out.push("", `${title}:`, ...this.table(names.map((n) => byName.get(n)).filter((e): e is Entry => e !== undefined), false));
    }
    const categories = [...new Set(this.entries.flatMap((e) => (e.category ? [e.category] : [])))];
    for (const category of categories) {
      const entries = this.entries.filter((e) => e.category === category);
      const groups = [...new Set(entries.flatMap((e) => (e.group ? [e.group] : [])))];
      out.push("", `${category} (${groups.map((g) => `chatctl ${g} --help`).join(", ")}); the original script's names beside:`, ...this.table(entries, true));
    }
    const listed = new Set([...SECTIONS.flatMap(([, n]) => n), ...this.entries.filter((e) => e.category).map((e) => e.name)]);
    const rest = this.entries.filter((e) => !listed.has(e.name));
    if (rest.length > 0) out.push("", "Other:", ...this.table(rest, false));
    out.push(
      "",
      "Everywhere: --region REGION, --profile PROFILE, --endpoint-url URL, --local (the running chatctl dev).",
      "New here? chatctl init, then chatctl dev.",
    );
    return `${out.join("\n")}\n`;
  }

  groupHelp(group: string): string {
    const entries = this.entries.filter((e) => e.group === group);
    const category = entries[0]?.category ?? group;
    return [
      `chatctl ${group} <command>: ${category}`,
      "",
      "Commands (the original script's names beside):",
      ...this.table(entries, true),
      "",
      `chatctl ${group} <command> --help: its options and examples.`,
      "",
    ].join("\n");
  }

  override usage(...args: Parameters<Cli["usage"]>): string {
    const [command = null] = args;
    if (command === null) return this.overview();
    return withValueNames(super.usage(...args));
  }

  override error(...args: Parameters<Cli["error"]>): string {
    return withValueNames(super.error(...args));
  }

  /** An unknown command, as one line with the nearest names; undefined when `input` names a command. */
  unknownCommand(input: readonly string[]): string | undefined {
    const [first, second] = input;
    if (first === undefined || first.startsWith("-")) return undefined;
    const groups = this.groups();
    const names = this.entries.flatMap((e) => [e.name, ...(e.oldName ? [e.oldName] : [])]);
    const tops = new Set(this.entries.flatMap((e) => [e.name.split(" ")[0]!, ...(e.oldName ? [e.oldName] : [])]));
    if (groups.has(first)) {
      if (second === undefined || second.startsWith("-")) return undefined;
      const subs = this.entries.filter((e) => e.group === first).flatMap((e) => (e.klass.paths ?? []).filter((p) => p.length === 2 && p[0] === first).map((p) => p[1]!));
      if (subs.includes(second)) return undefined;
      const near = nearest(second, subs).map((s) => `${first} ${s}`);
      return `error: unknown command "${first} ${second}"${near.length > 0 ? `; did you mean ${near.join(" or ")}?` : ""} (chatctl ${first} --help lists them)`;
    }
    if (tops.has(first)) return undefined;
    const near = nearest(first, names);
    return `error: unknown command "${first}"${near.length > 0 ? `; did you mean ${near.join(" or ")}?` : ""} (chatctl --help lists them)`;
  }

  /** The command the input's leading words name, under either name ("ws" alone is a group, not a command). */
  private typedEntry(input: readonly string[]): Entry | undefined {
    const matched = (e: Entry) => Math.max(0, ...(e.klass.paths ?? []).filter((path) => path.every((word, i) => input[i] === word)).map((p) => p.length));
    return this.entries.filter((e) => matched(e) > 0).sort((a, b) => matched(b) - matched(a))[0];
  }

  /**
   * clipanion's message for wrong arguments to a known command, made specific: too few
   * positional arguments name what the command takes and show its first example, which
   * a new user can run as it is; an option it does not have comes with the nearest ones.
   * Undefined for any other syntax error (its message stands as it is).
   */
  private explainSyntaxError(input: readonly string[], clipanionMessage: string): string | undefined {
    const [first = "", ...usage] = clipanionMessage.split("\n");
    const entry = this.typedEntry(input);
    if (!entry) return undefined;
    if (first.includes("Not enough positional arguments")) return this.missingArguments(entry, usage);
    const option = first.match(/Unsupported option name \("([^"]+)"\)/)?.[1];
    return option === undefined ? undefined : this.unknownOption(entry, option, usage);
  }

  private missingArguments(entry: Entry, usage: readonly string[]): string {
    const positionals = entry.args.match(/<[^>]+>|\[(?!-)[^\]]+\]/g) ?? [];
    const example = entry.klass.usage?.examples?.[0];
    return [
      `error: chatctl ${entry.name} takes ${positionals.join(" ")}; ${positionals.filter((p) => p.startsWith("<")).length === 1 ? "it is" : "some are"} missing`,
      ...usage,
      ...(example ? [`For example (${example[0].replace(/^./, (c) => c.toLowerCase())}):`, `  ${example[1]}`, ""] : []),
      `chatctl ${entry.name} --help: every option, and more examples.`,
      "",
    ].join("\n");
  }

  private unknownOption(entry: Entry, given: string, usage: readonly string[]): string {
    // The usage line clipanion printed lists every option: "[--region REGION]", "[-f,--file FILE]",
    // "[--follow,-f]"; one without a value is a switch, which also takes a --no- form.
    const options = [...usage.join("\n").matchAll(/\[(-{1,2}[\w-]+(?:,-{1,2}[\w-]+)*)( [^\]]+)?\]/g)].flatMap((m) =>
      (m[1] ?? "")
        .split(",")
        .filter((o) => o.startsWith("--"))
        .flatMap((o) => (m[2] === undefined ? [o, `--no-${o.slice(2)}`] : [o])),
    );
    const near = nearest(given, options);
    return [
      `error: chatctl ${entry.name} has no option ${given}${near.length > 0 ? `; did you mean ${near.join(" or ")}?` : ""}`,
      ...usage,
      `chatctl ${entry.name} --help: every option, and examples.`,
      "",
    ].join("\n");
  }

  override async run(given: string[] | Command, context?: Partial<BaseContext> | void): Promise<number> {
    const ctx = { ...Cli.defaultContext, ...(context ?? {}) };
    if (!Array.isArray(given)) return super.run(given, ctx);
    const input = joinOptionValues(given, isDevServerPort);
    if (input.length === 0) {
      ctx.stdout.write(this.overview());
      return 0;
    }
    const [first] = input;
    if (first !== undefined && this.groups().has(first) && input.slice(1).every(isHelpFlag)) {
      ctx.stdout.write(this.groupHelp(first));
      return 0;
    }
    const unknown = this.unknownCommand(input);
    if (unknown !== undefined) {
      ctx.stderr.write(`${unknown}\n`);
      return 1;
    }
    // --help after some arguments (`chatctl ws get-url abc --help`, a habit from other CLIs):
    // clipanion takes it only right after the command's name.
    const helpAt = input.findIndex(isHelpFlag);
    const endOfOptions = input.indexOf("--");
    const asked = helpAt >= 0 && (endOfOptions < 0 || helpAt < endOfOptions) ? this.typedEntry(input) : undefined;
    if (asked) {
      ctx.stdout.write(this.usage(asked.klass, { detailed: true, colored: this.enableColors ?? ctx.colorDepth > 1 }));
      return 0;
    }
    let command;
    try {
      command = this.process(input, ctx);
    } catch (error) {
      // Wrong arguments to a known command: clipanion's message and usage, on stderr.
      const err = error instanceof Error ? error : new Error(String(error));
      const message = this.error(err);
      ctx.stderr.write(this.explainSyntaxError(input, message) ?? message);
      return 1;
    }
    return super.run(command, ctx);
  }
}

/** Whether a running `chatctl dev` (by its record under ~/.chatctl/local) serves this port. */
function isDevServerPort(port: number): boolean {
  return runningLocalClouds().some((cloud) => {
    try {
      return Number(new URL(cloud.url).port) === port;
    } catch {
      return false;
    }
  });
}
