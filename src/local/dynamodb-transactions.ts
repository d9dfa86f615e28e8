import { createHash } from "node:crypto";

/**
 * TransactWriteItems and TransactGetItems for the local DynamoDB, which
 * dynalite lacks, built from its single-item operations.
 *
 * As the DynamoDB API reference describes them
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html,
 * .../API_TransactGetItems.html, .../API_CancellationReason.html):
 * - up to 100 actions, each one of ConditionCheck, Put, Update, Delete (Get for reads);
 *   two actions on one item are a ValidationException;
 * - all or nothing: when a condition fails, nothing is written and the answer is
 *   TransactionCanceledException with one CancellationReason per action, in order
 *   (`None` for the ones that would have passed, `ConditionalCheckFailed` with the
 *   item when ReturnValuesOnConditionCheckFailure is ALL_OLD);
 * - ClientRequestToken makes the call idempotent for 10 minutes: the same token with
 *   the same request succeeds again without writing, with another request it is an
 *   IdempotentParameterMismatchException.
 *
 * Isolation comes from the gate: a transaction runs alone, while single-item
 * operations share the gate among themselves, so no reader sees half of one.
 * Each action is applied with its condition against the item as it was (no two
 * actions touch one item), and the items written are put back when one fails.
 */

export type Json = Record<string, unknown>;

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One dynalite operation, outside the gate. */
export type Call = (operation: string, input: Json) => Promise<Answer>;

const MAX_ACTIONS = 100;
const TOKEN_WINDOW_MS = 10 * 60 * 1000;

export function answer(status: number, body: unknown): Answer {
  return { status, headers: {}, body: JSON.stringify(body) };
}

export function awsError(type: string, message: string, extra: Json = {}): Answer {
  return answer(400, { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message, ...extra });
}

function errorType(res: Answer): string {
  try {
    const type = (JSON.parse(res.body) as { __type?: unknown }).__type;
    return typeof type === "string" ? type.slice(type.indexOf("#") + 1) : "";
  } catch {
    return "";
  }
}

function errorMessage(res: Answer): string {
  try {
    const body = JSON.parse(res.body) as { message?: unknown; Message?: unknown };
    return String(body.message ?? body.Message ?? "");
  } catch {
    return "";
  }
}

/**
 * Single-item operations share it; transactions hold it alone. Writers first: once
 * a transaction waits, new shared work waits behind it.
 */
export class Gate {
  private active = 0;
  private exclusiveHeld = false;
  private readonly waiting: Array<{ exclusive: boolean; go: () => void }> = [];

  async shared<T>(work: () => Promise<T>): Promise<T> {
    if (this.exclusiveHeld || this.waiting.length > 0) await new Promise<void>((go) => this.waiting.push({ exclusive: false, go }));
    else this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.next();
    }
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.exclusiveHeld || this.active > 0 || this.waiting.length > 0) await new Promise<void>((go) => this.waiting.push({ exclusive: true, go }));
    else this.exclusiveHeld = true;
    try {
      return await work();
    } finally {
      this.exclusiveHeld = false;
      this.next();
    }
  }

  private next(): void {
    if (this.exclusiveHeld || this.active > 0) return;
    const first = this.waiting[0];
    if (!first) return;
    if (first.exclusive) {
      this.waiting.shift();
      this.exclusiveHeld = true;
      first.go();
      return;
    }
    while (this.waiting[0] && !this.waiting[0].exclusive) {
      this.active++;
      this.waiting.shift()!.go();
    }
  }
}

interface Action {
  readonly kind: "ConditionCheck" | "Put" | "Update" | "Delete" | "Get";
  readonly spec: Json;
  readonly tableName: string;
  readonly key: Json;
}

interface Reason {
  Code: string;
  Message?: string;
  Item?: Json;
}

export interface Transactions {
  write(input: Json): Promise<Answer>;
  get(input: Json): Promise<Answer>;
}

export function createTransactions(call: Call, now: () => number = Date.now): Transactions {
  const tokens = new Map<string, { fingerprint: string; at: number }>();

  async function keyNames(tableName: string, cache: Map<string, string[]>): Promise<string[] | Answer> {
    const known = cache.get(tableName);
    if (known) return known;
    const res = await call("DescribeTable", { TableName: tableName });
    if (res.status !== 200) return res;
    const schema = (JSON.parse(res.body) as { Table?: { KeySchema?: Array<{ AttributeName: string }> } }).Table?.KeySchema ?? [];
    const names = schema.map((k) => k.AttributeName);
    cache.set(tableName, names);
    return names;
  }

  // The actions as given, each with its table's key picked out; or the answer refusing the request.
  async function readActions(items: unknown, kinds: readonly Action["kind"][], field: string): Promise<Action[] | Answer> {
    if (!Array.isArray(items) || items.length === 0 || items.length > MAX_ACTIONS) {
      return awsError("ValidationException", `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length between 1 and ${MAX_ACTIONS}`);
    }
    const cache = new Map<string, string[]>();
    const actions: Action[] = [];
    const seen = new Set<string>();
    for (const item of items as unknown[]) {
      const given = typeof item === "object" && item !== null ? kinds.filter((k) => Object.hasOwn(item, k)) : [];
      if (given.length !== 1) {
        return awsError("ValidationException", `TransactItems can only contain one of ${kinds.join(", ")}`);
      }
      const kind = given[0]!;
      const spec = (item as Json)[kind] as Json;
      if (typeof spec?.TableName !== "string") return awsError("ValidationException", `${kind}: TableName is required`);
      if (kind === "ConditionCheck" && typeof spec.ConditionExpression !== "string") {
        return awsError("ValidationException", "ConditionCheck: ConditionExpression is required");
      }
      const names = await keyNames(spec.TableName, cache);
      if (!Array.isArray(names)) return names;
      const source = (kind === "Put" ? spec.Item : spec.Key) as Json | undefined;
      if (typeof source !== "object" || source === null || names.some((n) => source[n] === undefined)) {
        return awsError("ValidationException", "The provided key element does not match the schema");
      }
      const key = Object.fromEntries(names.map((n) => [n, source[n]]));
      const identity = `${spec.TableName}\u0000${JSON.stringify(names.map((n) => source[n]))}`;
      if (seen.has(identity)) return awsError("ValidationException", "Transaction request cannot include multiple operations on one item");
      seen.add(identity);
      actions.push({ kind, spec, tableName: spec.TableName, key });
    }
    return actions;
  }

  async function current(action: Action): Promise<{ item: Json | undefined } | { error: Answer }> {
    const res = await call("GetItem", { TableName: action.tableName, Key: action.key, ConsistentRead: true });
    if (res.status !== 200) return { error: res };
    return { item: (JSON.parse(res.body) as { Item?: Json }).Item };
  }

  function expressionParts(spec: Json): Json {
    const out: Json = {};
    for (const k of ["ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"]) if (spec[k] !== undefined) out[k] = spec[k];
    return out;
  }

  // The action as a single-item operation carrying its condition.
  function asOperation(action: Action): [string, Json] {
    const { spec, tableName, key } = action;
    switch (action.kind) {
      case "Put":
        return ["PutItem", { TableName: tableName, Item: spec.Item, ...expressionParts(spec) }];
      case "Delete":
        return ["DeleteItem", { TableName: tableName, Key: key, ...expressionParts(spec) }];
      case "Update":
        return ["UpdateItem", { TableName: tableName, Key: key, UpdateExpression: spec.UpdateExpression, ...expressionParts(spec) }];
      default:
        // An update that sets nothing checks the condition and, at most, creates the bare key (undone below).
        return ["UpdateItem", { TableName: tableName, Key: key, ...expressionParts(spec) }];
    }
  }

  async function restore(action: Action, before: Json | undefined): Promise<void> {
    if (before === undefined) await call("DeleteItem", { TableName: action.tableName, Key: action.key });
    else await call("PutItem", { TableName: action.tableName, Item: before });
  }

  function fingerprint(input: Json): string {
    const { ClientRequestToken: _token, ...rest } = input;
    return createHash("sha256").update(JSON.stringify(rest)).digest("hex");
  }

  return {
    async write(input) {
      const token = typeof input.ClientRequestToken === "string" ? input.ClientRequestToken : undefined;
      const at = now();
      for (const [t, seen] of tokens) if (at - seen.at > TOKEN_WINDOW_MS) tokens.delete(t);
      if (token !== undefined) {
        const seen = tokens.get(token);
        if (seen && seen.fingerprint !== fingerprint(input)) {
          return awsError("IdempotentParameterMismatchException", "Request parameters do not match the parameters of the original request with the same ClientRequestToken");
        }
        if (seen) return answer(200, {});
      }
      const actions = await readActions(input.TransactItems, ["ConditionCheck", "Put", "Update", "Delete"], "transactItems");
      if (!Array.isArray(actions)) return actions;

      const befores: Array<Json | undefined> = [];
      for (const action of actions) {
        const before = await current(action);
        if ("error" in before) return before.error;
        befores.push(before.item);
      }
      const reasons: Reason[] = [];
      const applied: number[] = [];
      let refusal: Answer | undefined;
      for (const [i, action] of actions.entries()) {
        const [operation, single] = asOperation(action);
        const res = await call(operation, single);
        if (res.status === 200) {
          applied.push(i);
          reasons.push({ Code: "None" });
          continue;
        }
        const type = errorType(res);
        if (type === "ConditionalCheckFailedException") {
          const reason: Reason = { Code: "ConditionalCheckFailed", Message: "The conditional request failed" };
          const before = befores[i];
          if (action.spec.ReturnValuesOnConditionCheckFailure === "ALL_OLD" && before !== undefined) reason.Item = before;
          reasons.push(reason);
        } else if (type === "ValidationException" && !/^(Invalid |Value provided in ExpressionAttribute|ExpressionAttribute)/.test(errorMessage(res))) {
          // A write the data makes invalid (a wrong operand type, an item too large) cancels; a malformed request does not.
          reasons.push({ Code: "ValidationError", Message: errorMessage(res) });
        } else {
          refusal = res;
          break;
        }
      }
      const cancelled = refusal !== undefined || reasons.some((r) => r.Code !== "None");
      if (cancelled) {
        for (const i of applied) await restore(actions[i]!, befores[i]);
        if (refusal) return refusal;
        const codes = reasons.map((r) => r.Code).join(", ");
        return awsError("TransactionCanceledException", `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`, {
          CancellationReasons: reasons,
        });
      }
      // A ConditionCheck on an absent item leaves nothing behind.
      for (const [i, action] of actions.entries()) if (action.kind === "ConditionCheck" && befores[i] === undefined) await restore(action, undefined);
      if (token !== undefined) tokens.set(token, { fingerprint: fingerprint(input), at });
      return answer(200, {});
    },

    async get(input) {
      const actions = await readActions(input.TransactItems, ["Get"], "transactItems");
      if (!Array.isArray(actions)) return actions;
      const responses: Json[] = [];
      for (const action of actions) {
        const { ProjectionExpression, ExpressionAttributeNames } = action.spec;
        const res = await call("GetItem", {
          TableName: action.tableName,
          Key: action.key,
          ConsistentRead: true,
          ...(ProjectionExpression !== undefined ? { ProjectionExpression } : {}),
          ...(ExpressionAttributeNames !== undefined ? { ExpressionAttributeNames } : {}),
        });
        if (res.status !== 200) return res;
        const item = (JSON.parse(res.body) as { Item?: Json }).Item;
        responses.push(item === undefined ? {} : { Item: item });
      }
      return answer(200, { Responses: responses });
    },
  };
}
