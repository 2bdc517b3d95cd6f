import { Job, JobJsonRaw, Worker } from 'bullmq';

/** Marker key of the data a TolerantWorker gives a job whose stored fields are not readable. */
export const UNREADABLE = 'rb:unreadable';

export interface UnreadableData {
  [UNREADABLE]: { reason: string; raw: string };
}

/** The reason a job could not be read, when it is one a TolerantWorker stood in for. */
export function unreadableReason(job: Job): { reason: string; raw: string } | undefined {
  const data = job.data as Partial<UnreadableData> | undefined;
  return data && typeof data === 'object' ? data[UNREADABLE] : undefined;
}

const RAW_KEPT = 4096;

function parses(text: string | undefined): boolean {
  try {
    JSON.parse(text || '{}');
    return true;
  } catch {
    return false;
  }
}

/**
 * A BullMQ Worker that survives a job whose stored `data` (or `opts`) is not JSON, as a stray
 * producer or a `redis-cli` slip can leave it. BullMQ parses the job in `createJob` right after
 * moving it to active, before any processor runs; a throw there is only emitted as a worker
 * 'error' and leaves the job active until the stalled checker moves it back to wait, again and
 * again. Here such a job becomes a readable stand-in whose data says why, so the processor can
 * dead-letter it and complete it like any other bad message.
 */
export class TolerantWorker<R = unknown> extends Worker<unknown, R> {
  protected override createJob(raw: JobJsonRaw, jobId: string): Job<unknown, R> {
    try {
      return super.createJob(raw, jobId);
    } catch (err) {
      const reason = `job ${raw.id || jobId} of queue ${this.name} is not readable: ${(err as Error).message}`;
      const data: UnreadableData = { [UNREADABLE]: { reason, raw: String(raw.data ?? '').slice(0, RAW_KEPT) } };
      // Only the fields BullMQ needs to finish the job; anything else of it may be the broken part.
      const clean: JobJsonRaw = {
        id: raw.id || jobId,
        name: typeof raw.name === 'string' ? raw.name : 'unreadable',
        data: JSON.stringify(data),
        opts: parses(raw.opts) ? raw.opts : '{}',
        progress: '0',
        delay: '0',
        priority: '0',
        timestamp: /^\d+$/.test(raw.timestamp ?? '') ? raw.timestamp : String(Date.now()),
        failedReason: '',
        returnvalue: 'null',
        ats: raw.ats,
        atm: raw.atm,
        stc: raw.stc,
        deid: raw.deid,
      };
      return super.createJob(clean, jobId);
    }
  }
}
