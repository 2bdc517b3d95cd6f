import type { SourceHealth } from '@registry-bridge/source-kit';
import { describeError } from './cloudmap-errors.util';

/**
 * Whether a Cloud Map source is reachable: a complete inventory was read, the last one did not
 * fail, and the last poll cycle did not fail for every service. The last error is kept.
 */
export class CloudMapSourceHealth {
  private reachable = false;
  private inventoryReady = false;
  private lastSuccessAt?: number;
  private error?: string;
  private inventoryFailing = false;
  private pollFailing = false;

  /** The last inventory failed (the source has then a status to tell even without an inventory). */
  get inventoryFailed(): boolean {
    return this.inventoryFailing;
  }

  get isReachable(): boolean {
    return this.reachable;
  }

  /** A complete inventory was read; true when reachability changed. */
  inventoryListed(): boolean {
    this.inventoryFailing = false;
    this.inventoryReady = true;
    return this.update();
  }

  /** The inventory read failed with `error`; true when reachability changed. */
  inventoryFailedWith(error: unknown): boolean {
    this.inventoryFailing = true;
    return this.update(error);
  }

  /** A poll cycle ended; `failedAll`: no read of it succeeded, the last failing with `error`. True when reachability changed. */
  pollCycled(failedAll: boolean, error?: unknown): boolean {
    this.pollFailing = failedAll;
    return this.update(failedAll ? error : undefined);
  }

  /** Something was read successfully at `at`. */
  success(at: number): void {
    this.lastSuccessAt = at;
  }

  view(services: number): SourceHealth {
    return {
      reachable: this.reachable,
      ...(this.lastSuccessAt !== undefined && { lastSuccessAt: this.lastSuccessAt }),
      ...(this.error && { error: this.error }),
      conditions: { inventoryReady: this.inventoryReady, services },
    };
  }

  private update(error?: unknown): boolean {
    const was = this.reachable;
    this.reachable = !this.inventoryFailing && !this.pollFailing && this.inventoryReady;
    if (error) this.error = describeError(error);
    return was !== this.reachable;
  }
}
