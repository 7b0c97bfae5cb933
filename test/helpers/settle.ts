/** A call's outcome as a value, so many calls can be awaited together and each checked on its own. */
export const settle = <T>(call: Promise<T>) =>
  call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
