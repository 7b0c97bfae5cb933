import { describe, expect, it } from 'vitest';
import { PLATFORM_CASES } from '../helpers/adapter-harness.js';
import { BUDGET_PARAMS, budgetRun } from '../helpers/budget-run.js';

// A budget-bound backfill without faults: the sandbox's strict buckets (no tolerance) refuse
// nothing, and the adapter used at least 90% of what they allowed over the busy period, so the
// backfill took no longer than the limits force. One run per platform here (about 5 s each);
// bench/adapters-backfill.ts repeats it and prints min/median/max.

describe.each(PLATFORM_CASES)('$platform budget-bound backfill', ({ platform }) => {
  it('stays within the limit and uses at least 90% of the allowed requests', async () => {
    const result = await budgetRun(platform);
    expect(result.complete).toBe(true);
    expect([result.refused, result.exceeded]).toEqual([0, false]);
    // One request per page, none repeated: nothing was refused or failed.
    const { orders, pageSize } = BUDGET_PARAMS[platform];
    expect(result.requests).toBe(Math.ceil(orders / pageSize));
    expect(result.utilisation).toBeGreaterThanOrEqual(0.9);
    expect(result.utilisation).toBeLessThanOrEqual(1);
  });
});
