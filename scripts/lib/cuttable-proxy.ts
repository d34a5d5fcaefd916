import { createServer, connect as netConnect, type Socket } from "node:net";

export interface CuttableProxy {
  /** The proxy's loopback address, to give the Worker as its libSQL URL. */
  url: string;
  /** Cuts the line (open connections reset, new ones refused) or joins it again. */
  setCut(on: boolean): void;
  close(): Promise<void>;
}

/**
 * A pass-through TCP proxy on 127.0.0.1 in front of `target` that a bench can cut, to stage a libSQL outage
 * the way the Worker meets one: connections reset and new ones refused, while sqld itself keeps running.
 */
export async function cuttableProxy(target: { host: string; port: number }): Promise<CuttableProxy> {
  let cut = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = netConnect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.on("close", () => sockets.delete(client));
    upstream.on("close", () => sockets.delete(upstream));
    client.pipe(upstream).on("error", () => client.destroy());
    upstream.pipe(client).on("error", () => upstream.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    setCut(on: boolean) {
      cut = on;
      if (on) for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
