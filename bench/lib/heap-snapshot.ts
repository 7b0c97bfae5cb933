import { readFile } from 'node:fs/promises';

/**
 * A V8 heap snapshot (.heapsnapshot, as written by `--heapsnapshot-signal`) summed per
 * constructor: how many live objects and how many bytes (self size). Enough to tell a map,
 * listener list or timer set that only ever grows from a heap that merely churns.
 */
export interface HeapSummary {
  totalBytes: number;
  nodes: number;
  byConstructor: Map<string, { count: number; bytes: number }>;
}

interface SnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export async function summarizeHeap(path: string): Promise<HeapSummary> {
  const file = JSON.parse(await readFile(path, 'utf8')) as SnapshotFile;
  const fields = file.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = file.snapshot.meta.node_types[0];
  const summary: HeapSummary = { totalBytes: 0, nodes: 0, byConstructor: new Map() };
  for (let index = 0; index < file.nodes.length; index += width) {
    const type = types[file.nodes[index + typeAt]!]!;
    const size = file.nodes[index + sizeAt]!;
    // Objects by constructor name; strings, code, arrays and the rest by their kind.
    const name =
      type === 'object' || type === 'closure' ? file.strings[file.nodes[index + nameAt]!]! : `(${type})`;
    summary.totalBytes += size;
    summary.nodes++;
    const entry = summary.byConstructor.get(name) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += size;
    summary.byConstructor.set(name, entry);
  }
  return summary;
}

/** Constructors whose live count grew the most from `before` to `after`. */
export function topGrowth(
  before: HeapSummary,
  after: HeapSummary,
  limit = 10,
): { name: string; count: number; bytes: number }[] {
  const growth: { name: string; count: number; bytes: number }[] = [];
  for (const [name, now] of after.byConstructor) {
    const then = before.byConstructor.get(name) ?? { count: 0, bytes: 0 };
    growth.push({ name, count: now.count - then.count, bytes: now.bytes - then.bytes });
  }
  return growth.sort((a, b) => b.bytes - a.bytes).slice(0, limit);
}
