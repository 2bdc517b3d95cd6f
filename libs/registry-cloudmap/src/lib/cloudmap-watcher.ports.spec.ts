import { Message, RecordProducer } from '@registry-bridge/contract';
import { cloudMapEmitter } from './cloudmap-watcher.ports';

describe('cloudMapEmitter', () => {
  it('sends a removal with the last revision sent, whatever the registry counter', async () => {
    const sent: Message[] = [];
    const emitter = cloudMapEmitter('cm-test', { port: new RecordProducer({ add: async (_n, data) => void sent.push(data as Message) }), now: () => 1_000_000 });
    await emitter.upsert({ source: { name: 'cm-test', kind: 'cloudmap' }, service: 'orders', scope: 'prod.local', ports: [], endpoints: [], metadata: {} }, 7);
    expect(await emitter.remove({ service: 'orders', scope: 'prod.local' }, 99)).toBe(true);
    expect(sent.map((m) => [m.type, m.type === 'upsert' ? m.record.revision : m.type === 'remove' ? m.revision : undefined])).toEqual([
      ['upsert', 7],
      ['remove', 7],
    ]);
    expect(emitter.source).toEqual({ name: 'cm-test', kind: 'cloudmap' });
  });
});
