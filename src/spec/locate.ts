// From a path in the parsed value (functions.connect.timeout) back to the text that
// produced it, so every message names a line and column.

import { type Alias, type Document, type LineCounter, type Node, type Pair, isAlias, isMap, isPair, isScalar, isSeq, type YAMLMap } from "yaml";
import type { SpecPath } from "./findings.js";

export interface Position {
  line: number;
  column: number;
  endColumn?: number;
  sourceLine?: string;
}

/** Lines longer than this are not echoed: a minified or hostile line would bury the message. */
const MAX_ECHOED_LINE = 240;

/** Every `[start, end]` text range of a node, from yaml's `range` triple. */
function nodeRange(node: Node | null | undefined): [number, number] | undefined {
  const range = node?.range;
  if (range === undefined || range === null) return undefined;
  return [range[0], range[1]];
}

/** The text of a scalar key as JavaScript would see it; undefined for keys that are not scalars. */
export function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? "" : String(key.value);
  return undefined;
}

/**
 * What each alias stands for: the closest anchor of its name before it in the text.
 * yaml's own Alias.resolve searches the whole document per alias, which a file of many
 * aliases turns into quadratic time; one walk in document order does them all.
 */
function indexAliases(doc: Document): Map<Alias, Node | undefined> {
  const targets = new Map<Alias, Node | undefined>();
  const anchors = new Map<string, Node>();
  // Iterative, children pushed in reverse so they come off the stack in document order.
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      targets.set(node, anchors.get(node.source));
      continue;
    }
    if (isPair(node)) {
      stack.push(node.value, node.key);
      continue;
    }
    if (isScalar(node) || isMap(node) || isSeq(node)) {
      if (node.anchor !== undefined) anchors.set(node.anchor, node);
      if (isMap(node) || isSeq(node)) {
        for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]);
      }
    }
  }
  return targets;
}

export class Locator {
  private readonly lines: string[];
  private readonly pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
  private readonly aliasTargets: Map<Alias, Node | undefined>;

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    text: string,
  ) {
    this.lines = text.split("\n");
    this.aliasTargets = indexAliases(doc);
  }

  /** The node an alias stands for; undefined when no anchor of its name comes before it. */
  aliasTarget(alias: Alias): Node | undefined {
    return this.aliasTargets.get(alias);
  }

  /** Line/column of a character offset, with the source line for the caret. */
  positionAt(offset: number, endOffset?: number): Position {
    const { line, col } = this.lineCounter.linePos(offset);
    const position: Position = { line, column: col };
    if (endOffset !== undefined && endOffset > offset) {
      const end = this.lineCounter.linePos(endOffset);
      if (end.line === line) position.endColumn = end.col;
    }
    const sourceLine = this.lines[line - 1]?.replace(/\r$/, "");
    if (sourceLine !== undefined && sourceLine.length <= MAX_ECHOED_LINE) {
      position.sourceLine = sourceLine;
      if (position.endColumn === undefined || position.endColumn > sourceLine.length + 1) {
        position.endColumn = Math.max(col + 1, sourceLine.trimEnd().length + 1);
      }
    }
    return position;
  }

  positionOfNode(node: Node | null | undefined): Position | undefined {
    const range = nodeRange(node);
    return range === undefined ? undefined : this.positionAt(range[0], range[1]);
  }

  /** The start of the document's content, for problems with the file as a whole. */
  top(): Position {
    return this.positionOfNode(this.doc.contents) ?? { line: 1, column: 1 };
  }

  private resolve(node: unknown): unknown {
    // Aliases may point at aliases only through collections, so a few hops always suffice;
    // the bound keeps a malformed tree from looping.
    let current = node;
    for (let hops = 0; hops < 8 && isAlias(current); hops++) current = this.aliasTarget(current);
    return current;
  }

  private pairsOf(map: YAMLMap): Map<string, Pair> {
    let index = this.pairIndex.get(map);
    if (index === undefined) {
      index = new Map();
      // The last duplicate wins, as in the parsed value.
      for (const pair of map.items) {
        const key = keyText(pair.key);
        if (key !== undefined) index.set(key, pair);
      }
      this.pairIndex.set(map, index);
    }
    return index;
  }

  private findPair(map: YAMLMap, key: string): Pair | undefined {
    const direct = this.pairsOf(map).get(key);
    if (direct !== undefined) return direct;
    // A key brought in by a merge (`<<: *base`) lives in the merged map.
    const merge = this.pairsOf(map).get("<<");
    if (merge === undefined) return undefined;
    const sources = this.resolve(merge.value);
    const maps = isSeq(sources) ? sources.items.map((item) => this.resolve(item)) : [sources];
    for (const source of maps) {
      if (isMap(source)) {
        const found = this.pairsOf(source).get(key);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }

  /**
   * Where the value at `path` is written. When the path does not exist in the text (a
   * missing key), the nearest entry that does is returned: for a missing key, its parent.
   */
  locate(path: SpecPath, on: "key" | "value" | "parent"): Position {
    const target = on === "parent" ? path.slice(0, -1) : path;
    let node: unknown = this.resolve(this.doc.contents);
    // The text standing for the deepest entry found so far: its key, or its list item.
    let anchor: Node | undefined;
    for (let depth = 0; depth < target.length; depth++) {
      const segment = target[depth];
      const last = depth === target.length - 1;
      if (isMap(node) && segment !== undefined) {
        const pair = this.findPair(node, String(segment));
        if (pair === undefined) break;
        anchor = isScalar(pair.key) ? pair.key : undefined;
        const value = pair.value as Node | null;
        if (last) {
          // An absent value (`timeout:` with nothing after it) has no text of its own: point at the key.
          const hasText = value !== null && nodeRange(value) !== undefined && !(isScalar(value) && value.value === null);
          return this.positionOfNode(on === "value" && hasText ? value : anchor) ?? this.top();
        }
        node = this.resolve(value);
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment] as Node | undefined;
        if (item === undefined) break;
        if (last) return this.positionOfNode(item) ?? this.top();
        anchor = item;
        node = this.resolve(item);
      } else {
        break;
      }
    }
    return this.positionOfNode(anchor) ?? this.top();
  }
}
