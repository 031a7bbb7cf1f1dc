/** A TCP port free on 127.0.0.1, for a server a spec starts. */
import { createServer } from "node:net";

/**
 * A port the kernel just handed out on 127.0.0.1 and released. Another
 * process may take it before the caller binds it: callers that spawn a
 * server retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no port assigned on 127.0.0.1"))));
    });
  });
}
