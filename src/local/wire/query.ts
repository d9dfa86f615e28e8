import { randomUUID } from "node:crypto";
import type { IamModel } from "../models/iam.js";
import type { StsModel } from "../models/sts.js";
import { AwsError, type OpInput, type ServiceModel, type WireAdapter, type WireRequest, type WireResponse } from "../service.js";

/**
 * The AWS query protocol (IAM, STS): a form-encoded POST naming Action and
 * Version, answered in XML. Lists travel as `Name.member.N` (1-based) both ways
 * (`<Name><member>..</member></Name>` in answers), timestamps as ISO 8601,
 * booleans as true/false; errors as
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 *
 * The form carries only strings; the adapter turns the fields named in
 * `numberFields` into numbers and `listFields` sent empty (`Tags=`) into [].
 * Models raise SDK exception names (NoSuchEntityException); `errorCodes` maps
 * them to the codes on the wire (NoSuchEntity), which the SDK maps back.
 */
export interface QueryWireOptions {
  readonly signingName: string;
  readonly xmlns: string;
  readonly numberFields?: readonly string[];
  readonly listFields?: readonly string[];
  readonly errorCodes?: Readonly<Record<string, string>>;
}

export function queryWire(model: ServiceModel, opts: QueryWireOptions): WireAdapter {
  const numberFields = new Set(opts.numberFields ?? []);
  const listFields = new Set(opts.listFields ?? []);
  return {
    signingName: opts.signingName,
    async handle(req: WireRequest): Promise<WireResponse> {
      const requestId = randomUUID();
      const form = new URLSearchParams(req.method === "GET" ? req.query.toString() : req.body.toString("utf8"));
      const action = form.get("Action");
      try {
        if (!action) throw new AwsError("MissingAction", "Could not find operation to perform; Action is missing", 400);
        if (!model.supports(action)) {
          throw new AwsError("InvalidAction", `Could not find operation ${action} for version ${form.get("Version") ?? "(none)"}`, 400);
        }
        const input = parseForm(form, numberFields, listFields);
        const output = await model.dispatch(action, input);
        const result = Object.keys(output).length > 0 ? `<${action}Result>${toXml(output)}</${action}Result>` : "";
        return {
          status: 200,
          headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
          body: `<${action}Response xmlns="${opts.xmlns}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
        };
      } catch (err) {
        // Anything but an AWS error (an injected dropped connection, our own bug) is the front door's to answer.
        if (!(err instanceof AwsError)) throw err;
        const e = err;
        const code = opts.errorCodes?.[e.name] ?? e.name;
        return {
          status: e.statusCode,
          headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
          body:
            `<ErrorResponse xmlns="${opts.xmlns}"><Error><Type>${e.statusCode >= 500 ? "Receiver" : "Sender"}</Type>` +
            `<Code>${escapeXml(code)}</Code><Message>${escapeXml(e.message)}</Message></Error>` +
            `<RequestId>${requestId}</RequestId></ErrorResponse>`,
        };
      }
    },
  };
}

/** `Tags.member.2.Key=a` -> { Tags: [ , { Key: "a" }] }; `Attributes.entry.1.key/value` -> { Attributes: { k: v } }. */
export function parseForm(form: URLSearchParams, numberFields: ReadonlySet<string> = new Set(), listFields: ReadonlySet<string> = new Set()): OpInput {
  const root: Record<string, unknown> = {};
  const entries: Array<{ path: (string | number)[]; value: string }> = [];
  for (const [key, value] of form) {
    if (key === "Action" || key === "Version") continue;
    const segs = key.split(".");
    const path: (string | number)[] = [];
    for (let k = 0; k < segs.length; k++) {
      const seg = segs[k] ?? "";
      const next = segs[k + 1];
      if ((seg === "member" || seg === "entry") && next !== undefined && /^\d+$/.test(next)) {
        path.push(Number(next) - 1);
        if (seg === "entry") path.push(`$entry`);
        k++;
      } else {
        path.push(seg);
      }
    }
    entries.push({ path, value });
  }
  for (const { path, value } of entries) {
    const last = path.at(-1);
    const field = typeof last === "string" ? last : [...path].reverse().find((p): p is string => typeof p === "string" && p !== "$entry");
    let v: unknown = value;
    if (field !== undefined && path.length === 1 && value === "" && listFields.has(field)) v = [];
    else if (field !== undefined && numberFields.has(field) && /^-?\d+(\.\d+)?$/.test(value)) v = Number(value);
    setPath(root, path, v);
  }
  return mapsFromEntries(root) as OpInput;
}

function setPath(root: Record<string, unknown>, path: readonly (string | number)[], value: unknown): void {
  let cur: Record<string | number, unknown> = root;
  for (let k = 0; k < path.length - 1; k++) {
    const key = path[k] as string | number;
    const nextKey = path[k + 1];
    let child = cur[key];
    if (typeof child !== "object" || child === null) {
      child = typeof nextKey === "number" ? [] : {};
      cur[key] = child;
    }
    cur = child as Record<string | number, unknown>;
  }
  cur[path.at(-1) as string | number] = value;
}

// Map members arrive as a list of { $entry: { key, value } }; the model wants a plain object.
function mapsFromEntries(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items: unknown[] = v.filter((x) => x !== undefined);
    if (items.length > 0 && items.every((x) => typeof x === "object" && x !== null && "$entry" in x)) {
      const out: Record<string, unknown> = {};
      for (const item of items) {
        const entry = (item as { $entry: { key?: unknown; value?: unknown } }).$entry;
        if (typeof entry.key === "string") out[entry.key] = mapsFromEntries(entry.value);
      }
      return out;
    }
    return items.map(mapsFromEntries);
  }
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapsFromEntries(x)]));
  }
  return v;
}

/** An output shape as the query protocol's XML: lists as <member>, dates ISO 8601. */
export function toXml(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((item) => `<member>${toXml(item)}</member>`).join("");
  if (typeof v === "object") {
    return Object.entries(v)
      .filter(([, x]) => x !== undefined && x !== null)
      .map(([k, x]) => `<${k}>${toXml(x)}</${k}>`)
      .join("");
  }
  if (typeof v === "string") return escapeXml(v);
  return String(v);
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] ?? c);
}

// IAM's codes on the wire are its exception names without "Exception".
const IAM_ERROR_CODES: Readonly<Record<string, string>> = {
  NoSuchEntityException: "NoSuchEntity",
  EntityAlreadyExistsException: "EntityAlreadyExists",
  DeleteConflictException: "DeleteConflict",
  LimitExceededException: "LimitExceeded",
  MalformedPolicyDocumentException: "MalformedPolicyDocument",
  InvalidInputException: "InvalidInput",
  ServiceFailureException: "ServiceFailure",
  ConcurrentModificationException: "ConcurrentModification",
  UnmodifiableEntityException: "UnmodifiableEntity",
};

export function iamWire(model: IamModel): WireAdapter {
  return queryWire(model, {
    signingName: "iam",
    xmlns: "https://iam.amazonaws.com/doc/2010-05-08/",
    numberFields: ["MaxItems", "MaxSessionDuration"],
    listFields: ["Tags", "TagKeys"],
    errorCodes: IAM_ERROR_CODES,
  });
}

export function stsWire(model: StsModel): WireAdapter {
  return queryWire(model, {
    signingName: "sts",
    xmlns: "https://sts.amazonaws.com/doc/2011-06-15/",
    numberFields: ["DurationSeconds"],
    listFields: ["Tags", "PolicyArns", "TransitiveTagKeys"],
  });
}
