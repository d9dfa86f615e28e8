// AWS lists come in pages; each service names its continuation token differently
// (NextToken, nextToken, Marker with IsTruncated, LastEvaluatedTableName, DynamoDB's
// LastEvaluatedKey), so callers say where the items and the token are and this follows
// them to the last page.

export async function allPages<P, T, K = string>(
  fetch: (token: K | undefined) => Promise<P>,
  items: (page: P) => readonly T[] | undefined,
  next: (page: P) => K | undefined,
): Promise<T[]> {
  const all: T[] = [];
  let token: K | undefined;
  do {
    const page = await fetch(token);
    all.push(...(items(page) ?? []));
    token = next(page);
  } while (token);
  return all;
}

/** API Gateway v2's Get* lists: `Items`, continued by `NextToken`. */
export function allItems<T>(fetch: (nextToken: string | undefined) => Promise<{ Items?: T[]; NextToken?: string }>): Promise<T[]> {
  return allPages(fetch, (page) => page.Items, (page) => page.NextToken);
}

/** IAM's lists: continued by `Marker` while `IsTruncated`. */
export function allMarked<P extends { IsTruncated?: boolean; Marker?: string }, T>(
  fetch: (marker: string | undefined) => Promise<P>,
  items: (page: P) => readonly T[] | undefined,
): Promise<T[]> {
  return allPages(fetch, items, (page) => (page.IsTruncated ? page.Marker : undefined));
}
