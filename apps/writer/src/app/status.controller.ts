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
      lastResync: this.writer.lastResync ?? null,
      queues: await this.writer.queueCounts(),
    };
  }
}
