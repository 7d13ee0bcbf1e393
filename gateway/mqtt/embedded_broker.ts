// An MQTT 3.1.1 broker inside the process (npm:aedes over node:net), so `deno task start` runs
// the MQTT gateway and MQTT nodes on a fresh clone with no mosquitto installed.
import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import { createLogger } from "../../common/log.ts";

const log = createLogger("mqtt-broker");

export interface EmbeddedMqttBrokerOptions {
  /** Default 127.0.0.1: the embedded broker is for one machine; expose it deliberately. */
  host?: string;
  /** Default 1883; 0 picks a free port. */
  port?: number;
}

export interface EmbeddedMqttBroker {
  port: number;
  /** `mqtt://host:port` */
  url: string;
  /** Number of connected MQTT clients. */
  readonly clients: number;
  close(): Promise<void>;
}

export async function startEmbeddedMqttBroker(
  opts: EmbeddedMqttBrokerOptions = {},
): Promise<EmbeddedMqttBroker> {
  const host = opts.host ?? "127.0.0.1";
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    // Relayed messages are small and interactive (a LED toggle): no Nagle delay, as mosquitto's
    // set_tcp_nodelay.
    socket.setNoDelay(true);
    socket.on("close", () => sockets.delete(socket));
    // A client resetting its connection must not become an unhandled error event.
    socket.on("error", (err) => log.debug("client socket error", { err }));
    aedes.handle(socket);
  });
  aedes.on("clientError", (client, err) => log.debug("client error", { id: client.id, err }));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 1883, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    // Port taken: aedes already runs its timers; stop it so nothing is left behind.
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = `mqtt://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log.info("embedded MQTT broker listening", { url });
  let closing: Promise<void> | null = null;
  return {
    port,
    url,
    get clients() {
      return sockets.size;
    },
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        // aedes ends its clients; destroy what is left so the listener can finish closing.
        for (const socket of sockets) socket.destroy();
        await serverClosed;
      })();
      return closing;
    },
  };
}
