import type { OrderVersion, SimOrder } from './model.js';

/**
 * One account's orders with the two orderings list calls need, kept sorted as orders change so
 * no request ever sorts: `byCreated` (append-only, creation order = sequence order) and
 * `byUpdated` (visible orders by (updatedAt, seq)). An update moves one entry by binary search
 * and splice, which stays in microseconds at 20,000+ orders.
 */
export class OrderStore {
  readonly byCreated: SimOrder[] = [];
  private readonly byUpdated: SimOrder[] = [];
  private readonly byId = new Map<string, SimOrder>();
  private readonly pendingOrders = new Set<SimOrder>();

  get size(): number {
    return this.byCreated.length;
  }

  /** Orders with a version not yet visible. */
  get pendingCount(): number {
    return this.pendingOrders.size;
  }

  get(id: string): SimOrder | undefined {
    return this.byId.get(id);
  }

  /**
   * Loads the initial orders (in creation order, each with its current version, all visible) and
   * sorts the update index once, instead of one insertion per order.
   */
  load(entries: readonly { order: SimOrder; version: OrderVersion }[]): void {
    if (this.byCreated.length > 0) throw new Error('load() only fills an empty store');
    for (const { order, version } of entries) {
      order.visible = version;
      this.byCreated.push(order);
      this.byId.set(order.id, order);
      this.byUpdated.push(order);
    }
    this.byUpdated.sort((a, b) => a.visible!.updatedAt - b.visible!.updatedAt || a.seq - b.seq);
  }

  /** Adds a new order (created after every order already stored). */
  add(order: SimOrder, first: OrderVersion, visibleAt: number, now: number): void {
    const last = this.byCreated[this.byCreated.length - 1];
    if (last && (last.createdAt > order.createdAt || last.seq >= order.seq)) {
      throw new Error(`order ${order.id} is not newer than ${last.id}`);
    }
    this.byCreated.push(order);
    this.byId.set(order.id, order);
    this.setVersion(order, first, visibleAt, now);
  }

  /**
   * Records a new version. Visible at once when `visibleAt <= now`, otherwise list queries keep
   * seeing the previous version until then (a late update).
   */
  setVersion(order: SimOrder, version: OrderVersion, visibleAt: number, now: number): void {
    if (visibleAt <= now) {
      if (order.pending) {
        order.pending = null;
        this.pendingOrders.delete(order);
      }
      this.makeVisible(order, version);
      return;
    }
    order.pending = { version, visibleAt };
    this.pendingOrders.add(order);
  }

  /** Makes every version whose time has come visible. Called before each request is served. */
  promote(now: number): void {
    if (this.pendingOrders.size === 0) return;
    for (const order of this.pendingOrders) {
      if (order.pending && order.pending.visibleAt <= now) {
        const { version } = order.pending;
        order.pending = null;
        this.pendingOrders.delete(order);
        this.makeVisible(order, version);
      }
    }
  }

  /** Makes everything visible now, whatever its delay. */
  settle(): void {
    for (const order of this.pendingOrders) {
      const { version } = order.pending!;
      order.pending = null;
      this.makeVisible(order, version);
    }
    this.pendingOrders.clear();
  }

  /** Number of visible orders in the update-time index. */
  get visibleCount(): number {
    return this.byUpdated.length;
  }

  updatedAt(position: number): SimOrder | undefined {
    return this.byUpdated[position];
  }

  /** First position whose (updatedAt, seq) is at or after the key. */
  lowerBoundUpdated(updatedAt: number, seq = 0): number {
    let low = 0;
    let high = this.byUpdated.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = this.byUpdated[middle]!;
      const t = order.visible!.updatedAt;
      if (t < updatedAt || (t === updatedAt && order.seq < seq)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Positions [start, end) of visible orders updated within [min, max] (inclusive). */
  updatedRange(min: number, max: number): [number, number] {
    return [this.lowerBoundUpdated(min), this.lowerBoundUpdated(max + 1)];
  }

  /** First position in `byCreated` whose (createdAt, seq) is at or after the key. */
  lowerBoundCreated(createdAt: number, seq = 0): number {
    let low = 0;
    let high = this.byCreated.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = this.byCreated[middle]!;
      if (order.createdAt < createdAt || (order.createdAt === createdAt && order.seq < seq)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private makeVisible(order: SimOrder, version: OrderVersion): void {
    if (order.visible) {
      const at = this.lowerBoundUpdated(order.visible.updatedAt, order.seq);
      if (this.byUpdated[at] !== order) throw new Error(`index out of step for order ${order.id}`);
      this.byUpdated.splice(at, 1);
    }
    order.visible = version;
    this.byUpdated.splice(this.lowerBoundUpdated(version.updatedAt, order.seq), 0, order);
  }
}
