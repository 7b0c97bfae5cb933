import { isRecord, json, parseJson, type Reply, type RequestContext } from './http.js';
import type { SandboxState } from './state.js';
import { type FaultConfig, isSandboxPlatform, type Sandbox, type SandboxAccount } from './types.js';

/**
 * The sandbox's own endpoints, under `/_sandbox/` (never rate limited or faulted):
 * - `GET  /_sandbox/health` → `{status:"ok", now, accounts, orders}`
 * - `GET  /_sandbox/accounts` → the accounts with base URLs and fake credentials
 * - `GET  /_sandbox/stats` → request accounting (see SandboxStats)
 * - `GET  /_sandbox/truth?platform=&account=` → `{platform, account, orders}` (ground truth)
 * - `GET  /_sandbox/inventory?platform=&account=` → `{platform, account, inventory}` (quantity per
 *   SKU as last set through the platform's inventory endpoint)
 * - `POST /_sandbox/faults?platform=amazon|*` with a FaultConfig JSON body
 * - `POST /_sandbox/updates?count=N[&platform=&account=]` → applies N timeline events now
 * - `POST /_sandbox/expire-tokens?platform=[&account=]`, `POST /_sandbox/settle`
 * - `POST /_sandbox/revoke?platform=&account=`, `POST /_sandbox/restore?platform=&account=` (the grant)
 */
export function controlReply(
  ctx: RequestContext,
  deps: {
    sandbox: Omit<Sandbox, 'url' | 'port' | 'accounts' | 'close'>;
    accounts: () => readonly SandboxAccount[];
    state: SandboxState;
  },
): Reply | null {
  if (!ctx.path.startsWith('/_sandbox/')) return null;
  const { sandbox, state } = deps;
  const q = ctx.query;
  const platform = q.get('platform');
  const account = q.get('account') ?? undefined;
  const key = `${ctx.method} ${ctx.path}`;
  try {
    switch (key) {
      case 'GET /_sandbox/health':
        return json(200, {
          status: 'ok',
          now: new Date(ctx.now).toISOString(),
          accounts: state.accounts.length,
          orders: state.accounts.reduce((sum, entry) => sum + entry.store.size, 0),
        });
      case 'GET /_sandbox/accounts':
        return json(200, { accounts: deps.accounts() });
      case 'GET /_sandbox/stats':
        return json(200, sandbox.stats());
      case 'GET /_sandbox/truth': {
        if (!isSandboxPlatform(platform) || !account)
          return json(400, { error: 'platform and account are required' });
        return json(200, { platform, account, orders: sandbox.groundTruth(platform, account) });
      }
      case 'GET /_sandbox/inventory': {
        if (!isSandboxPlatform(platform) || !account)
          return json(400, { error: 'platform and account are required' });
        return json(200, { platform, account, inventory: sandbox.inventory(platform, account) });
      }
      case 'POST /_sandbox/faults': {
        const body = parseJson(ctx.body);
        if (!isRecord(body) || (platform !== '*' && !isSandboxPlatform(platform))) {
          return json(400, {
            error: 'platform (shopify|amazon|ebay|*) and a JSON FaultConfig body are required',
          });
        }
        sandbox.setFaults(platform, body as FaultConfig);
        return json(200, { platform, faults: body });
      }
      case 'POST /_sandbox/updates': {
        const count = Number(q.get('count') ?? '1');
        if (!Number.isInteger(count) || count < 0 || count > 1_000_000)
          return json(400, { error: 'count must be an integer' });
        const filter = {
          ...(isSandboxPlatform(platform) ? { platform } : {}),
          ...(account ? { account } : {}),
        };
        return json(200, { applied: sandbox.applyUpdates(count, filter) });
      }
      case 'POST /_sandbox/expire-tokens':
        if (!isSandboxPlatform(platform)) return json(400, { error: 'platform is required' });
        return json(200, { expired: sandbox.expireTokens(platform, account) });
      case 'POST /_sandbox/revoke':
      case 'POST /_sandbox/restore':
        if (!isSandboxPlatform(platform) || !account)
          return json(400, { error: 'platform and account are required' });
        if (ctx.path.endsWith('revoke')) sandbox.revokeGrant(platform, account);
        else sandbox.restoreGrant(platform, account);
        return json(200, { platform, account, revoked: ctx.path.endsWith('revoke') });
      case 'POST /_sandbox/settle':
        sandbox.settle();
        return json(200, { pendingVisibility: state.pendingVisibility() });
      default:
        return json(404, { error: `no sandbox control endpoint ${key}` });
    }
  } catch (error) {
    return json(400, { error: (error as Error).message });
  }
}
