import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A scripted HTTP server for unit tests of the client and syncer (the int specs use the real Eureka). */
export class FakeEurekaServer {
  readonly requests: { path: string; auth?: string }[] = [];
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(404).end();
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.requests.push({ path: req.url ?? '', auth: req.headers.authorization });
      this.handler(req, res);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/eureka`;
  }

  json(routes: Record<string, unknown | (() => unknown)>): void {
    this.handler = (req, res) => {
      const path = (req.url ?? '').replace(/^\/eureka/, '');
      const route = routes[path];
      if (route === undefined) return void res.writeHead(404).end();
      const value = typeof route === 'function' ? (route as () => unknown)() : route;
      if (typeof value === 'number') return void res.writeHead(value).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
