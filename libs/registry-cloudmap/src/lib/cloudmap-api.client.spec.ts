import { ListNamespacesCommand } from '@aws-sdk/client-servicediscovery';
import { createServer, Server, Socket } from 'node:net';
import { createCloudMapClient } from './cloudmap-api.client';
import { cloudMapSourceSchema, toSourceOptions } from './cloudmap-config.schema';

describe('createCloudMapClient', () => {
  let server: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // accepts connections and never answers: a frozen endpoint
    server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => server.close(r));
  });

  it('fails a request that gets no answer within requestTimeoutSeconds, so the source reads as unreachable', async () => {
    const port = (server.address() as { port: number }).port;
    const source = toSourceOptions(cloudMapSourceSchema.parse({ name: 'cm', region: 'eu-west-1', endpoint: `http://127.0.0.1:${port}`, requestTimeoutSeconds: 0.3 }));
    const client = createCloudMapClient(source, {
      budget: { take: async () => ({ waitedMs: 0, factor: 1 }), penalize: async () => 1 },
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const t0 = Date.now();
    await expect(client.send(new ListNamespacesCommand({}))).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(5000);
    client.destroy();
  });
});
