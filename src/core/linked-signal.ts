/**
 * An AbortSignal that aborts when any of `signals` does, and lets go of them on `dispose()`.
 *
 * Why not AbortSignal.any: in Node 20 each AbortSignal.any() leaves a WeakRef in every source
 * signal's set of dependants that goes away only when the source itself is collected. Against a
 * signal that lives as long as the process (a worker's stop signal, a limiter's) the set grows by
 * one per call: bench/worker-soak.ts saw ~500 WeakRefs a minute pile up in a syncing worker.
 */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Stops listening to the sources; call it when the work the signal guarded is over. */
  dispose(): void;
}

export function linkedSignal(signals: readonly AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const aborted = signals.find((signal) => signal.aborted);
  if (aborted) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, dispose: () => undefined };
  }
  const listeners = signals.map((source) => {
    const onAbort = () => {
      controller.abort(source.reason);
      dispose();
    };
    source.addEventListener('abort', onAbort, { once: true });
    return { source, onAbort };
  });
  function dispose(): void {
    for (const { source, onAbort } of listeners) source.removeEventListener('abort', onAbort);
  }
  return { signal: controller.signal, dispose };
}
