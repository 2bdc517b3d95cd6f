import { Controller, Get } from '@nestjs/common';
import { WriterService } from './writer.service';

/** What operators ask first: is each source healthy, what was refused and why. */
@Controller()
export class StatusController {
  constructor(private readonly writer: WriterService) {}

  @Get('status')
  async status() {
    return {
      installation: this.writer.cfg.installation,
      leader: this.writer.isLeader(),
      leaseHolder: this.writer.elector?.holder() ?? null,
      sources: await this.writer.sourcesStatus(),
      refused: Object.fromEntries(this.writer.reconciler.refused),
      hostCollisions: this.writer.cache.collisionScope,
      tcpWithoutAddress: this.tcpWithoutAddress(),
      lastResync: this.writer.lastResync ?? null,
      queues: await this.writer.queueCounts(),
    };
  }

  /** Opaque TCP ServiceEntries with no address yet (the first 100 named; the metric has the count). */
  private tcpWithoutAddress() {
    const all = this.writer.cache.ownedWithoutAddress();
    return { count: all.length, entries: all.slice(0, 100) };
  }
}
