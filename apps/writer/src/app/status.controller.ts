import { Controller, Get, Inject } from '@nestjs/common';
import { APP_CONFIG } from '@registry-bridge/app-config';
import { WriterConfig } from '@registry-bridge/config/writer';
import { HostIndex } from './host-index.service';
import { LeadershipService } from './leadership.service';
import { ResyncService } from './resync.service';
import { StatusBoard } from './status-board.service';
import { StatusService } from './status.service';

/** What operators ask first: is each source healthy, what was refused and why. */
@Controller()
export class StatusController {
  constructor(
    @Inject(APP_CONFIG) private readonly cfg: WriterConfig,
    private readonly leadership: LeadershipService,
    private readonly status: StatusService,
    private readonly board: StatusBoard,
    private readonly hosts: HostIndex,
    private readonly resync: ResyncService,
  ) {}

  @Get('status')
  async view() {
    return {
      installation: this.cfg.installation,
      leader: this.leadership.isLeader(),
      leaseHolder: this.leadership.holder(),
      sources: await this.status.sources(),
      refused: this.board.allRefusals(),
      hostCollisions: this.hosts.collisionScope(),
      tcpWithoutAddress: this.status.tcpWithoutAddress(),
      lastResync: this.resync.lastResync() ?? null,
      queues: await this.status.queues(),
    };
  }
}
