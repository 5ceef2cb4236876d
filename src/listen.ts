/** Binding an HTTP server to its port: shared by the Streamable HTTP face and the sandbox backend. */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Starts `server` listening on `host:port` (0 picks a free port); resolves with the bound address. */
export async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
