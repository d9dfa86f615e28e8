import type { AttributeValue } from "@aws-sdk/client-dynamodb";

export type PlainValue = string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };
export type PlainItem = Record<string, PlainValue>;

/**
 * DynamoDB's typed attribute values as plain JSON: numbers stay numbers while
 * they are exact in JavaScript (otherwise their digits as a string), sets become
 * arrays, binary becomes base64.
 */
export function plainValue(v: AttributeValue): PlainValue {
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return plainNumber(v.N);
  if (v.BOOL !== undefined) return v.BOOL;
  if (v.NULL !== undefined) return null;
  if (v.B !== undefined) return Buffer.from(v.B).toString("base64");
  if (v.SS !== undefined) return [...v.SS];
  if (v.NS !== undefined) return v.NS.map(plainNumber);
  if (v.BS !== undefined) return v.BS.map((b) => Buffer.from(b).toString("base64"));
  if (v.L !== undefined) return v.L.map(plainValue);
  if (v.M !== undefined) return plainItem(v.M);
  return null;
}

function plainNumber(n: string): number | string {
  // DynamoDB numbers carry up to 38 digits; a double holds 15 exactly.
  const digits = n.replace(/e.*$/i, "").replace(/[^0-9]/g, "").replace(/^0+/, "").replace(/0+$/, "");
  const x = Number(n);
  return Number.isFinite(x) && digits.length <= 15 ? x : n;
}

export function plainItem(item: Record<string, AttributeValue>): PlainItem {
  const out: PlainItem = {};
  for (const key of Object.keys(item).sort()) {
    const v = item[key];
    if (v !== undefined) out[key] = plainValue(v);
  }
  return out;
}
