import { createServer } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { listen } from "../../src/listen.js";

const servers: ReturnType<typeof createServer>[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function server() {
  const s = createServer((_req, res) => res.end("ok"));
  servers.push(s);
  return s;
}

describe("listen", () => {
  it("binds a free port on loopback and resolves with the bound address", async () => {
    const address = await listen(server(), 0, "127.0.0.1");
    expect(address.address).toBe("127.0.0.1");
    expect(address.port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${address.port}/`);
    expect(await res.text()).toBe("ok");
  });

  it("rejects with the listen error when the port is taken, and leaves no error listener behind", async () => {
    const taken = await listen(server(), 0, "127.0.0.1");
    const second = server();
    await expect(listen(second, taken.port, "127.0.0.1")).rejects.toMatchObject({ code: "EADDRINUSE" });
    const third = server();
    await listen(third, 0, "127.0.0.1");
    expect(third.listenerCount("error")).toBe(0);
  });
});
