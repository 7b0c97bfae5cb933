/** Exit codes, the same for every command. bin/tradectl.ts is the only caller of process.exit. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** Some accounts (or items) failed and the rest succeeded. */
  partial: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
