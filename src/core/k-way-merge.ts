/**
 * Merging sorted streams: the heart of every cross-shard read. Each shard table answers with its
 * own sorted page; the global page is the first `limit` items of their merge.
 *
 * A binary min-heap holds one head per stream, so taking `limit` items costs
 * O(limit · log k) comparisons for k streams instead of sorting everything every table returned.
 */
export type Compare<T> = (a: T, b: T) => number;

/**
 * Merges streams that are each sorted by `compare` into one sorted array of at most `limit`
 * items. Stable: items that compare equal come out in stream order, then in their order within
 * a stream, so the result equals a stable sort of the concatenation (cut at `limit`).
 *
 * The streams are not checked: an unsorted stream gives an unsorted result.
 */
export function kWayMerge<T>(
  streams: readonly (readonly T[])[],
  compare: Compare<T>,
  limit = Number.POSITIVE_INFINITY,
): T[] {
  const out: T[] = [];
  if (limit <= 0) return out;
  // The heap holds stream indexes; positions[s] is the next unread item of stream s.
  const positions = new Array<number>(streams.length).fill(0);
  const heap: number[] = [];
  const head = (stream: number): T => streams[stream]![positions[stream]!]!;
  // Ties go to the lower stream index: that is what makes the merge stable.
  const less = (a: number, b: number): boolean => {
    const order = compare(head(a), head(b));
    return order < 0 || (order === 0 && a < b);
  };
  const siftUp = (start: number): void => {
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!less(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  };
  const siftDown = (start: number): void => {
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && less(heap[right]!, heap[left]!) ? right : left;
      if (!less(heap[child]!, heap[index]!)) break;
      [heap[index], heap[child]] = [heap[child]!, heap[index]!];
      index = child;
    }
  };

  streams.forEach((stream, index) => {
    if (stream.length > 0) {
      heap.push(index);
      siftUp(heap.length - 1);
    }
  });
  while (heap.length > 0 && out.length < limit) {
    const stream = heap[0]!;
    out.push(head(stream));
    positions[stream]!++;
    if (positions[stream]! < streams[stream]!.length) {
      siftDown(0);
    } else {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        siftDown(0);
      }
    }
  }
  return out;
}
