import { configJsonSchema } from './json-schema.js';

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The candidate closest to `typed` (case-insensitively) when it is close enough to be a typo, else null. */
export function closest(typed: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(typed.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(Math.max(typed.length, 3) / 3));
  return best !== null && bestDistance <= allowed ? best : null;
}

type SchemaNode = { properties?: Record<string, SchemaNode>; items?: SchemaNode; anyOf?: SchemaNode[]; oneOf?: SchemaNode[]; allOf?: SchemaNode[] };

/** The keys the config file may have at `path` (from the JSON Schema the zod schema generates). */
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let nodes: SchemaNode[] = [configJsonSchema() as SchemaNode];
  for (const segment of path) {
    nodes = nodes.flatMap(branches).flatMap((node) => {
      if (typeof segment === 'number') return node.items ? [node.items] : [];
      const child = node.properties?.[String(segment)];
      return child ? [child] : [];
    });
  }
  return [...new Set(nodes.flatMap(branches).flatMap((node) => Object.keys(node.properties ?? {})))];
}

function branches(node: SchemaNode): SchemaNode[] {
  return [node, ...[...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])].flatMap(branches)];
}
