/**
 * Runs `work` over `items` with at most `concurrency` calls in flight: a fixed set of workers
 * pulling the next item, instead of `Promise.all(items.map(work))`, which would open thousands
 * of queries at once against a pool of a few connections (they would queue in the pool anyway,
 * with no way to stop handing out work once one fails).
 *
 * Items are started in order. After the first failure no new item starts; calls already in
 * flight finish, then the first error is thrown.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be >= 1');
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
