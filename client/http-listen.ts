// Listening for the CLI's HTTP servers (the Slack bridge, the approvals endpoint): bind, then say where.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server that listens: where it answers, and how to stop it. */
export interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Binds `server` to host:port (0: any free port) and resolves once it listens. */
export async function listenOn(server: Server, port: number, host: string): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    server,
    url: `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
