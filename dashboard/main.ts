// `deno task dashboard`: serves the web dashboard. Flags as pyaiot's aiot-dashboard
// (--port 8080, --broker-host, --broker-port 8000), so it can point at any compatible broker.
import { parseArgs } from "node:util";
import { createLogger, setLogLevel } from "../common/log.ts";
import { startDashboard } from "./server.ts";

const USAGE = `usage: deno task dashboard [options]
  --port N            HTTP port (8080)
  --host ADDR         address to bind (0.0.0.0)
  --broker-host HOST  broker host as browsers reach it (localhost: a remote browser uses the
                      host it loaded the page from)
  --broker-port N     broker port (8000)
  --broker-ssl        use wss:// to reach the broker
  --title TEXT        page title ("IoT dashboard")
  --debug             debug logs`;

export function brokerWsUrl(host: string, port: number, ssl: boolean): string {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${ssl ? "wss" : "ws"}://${h}:${port}/ws`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "0.0.0.0" },
      "broker-host": { type: "string", default: "localhost" },
      "broker-port": { type: "string", default: "8000" },
      "broker-ssl": { type: "boolean", default: false },
      title: { type: "string", default: "IoT dashboard" },
      debug: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (values.debug) setLogLevel("debug");
  const port = Number(values.port), brokerPort = Number(values["broker-port"]);
  if (!Number.isInteger(port) || !Number.isInteger(brokerPort)) {
    console.error(USAGE);
    Deno.exit(2);
  }
  const dashboard = await startDashboard({
    host: values.host,
    port,
    brokerUrl: brokerWsUrl(values["broker-host"], brokerPort, values["broker-ssl"]),
    title: values.title,
  });
  const log = createLogger("dashboard");
  const stop = async () => {
    log.info("stopping");
    await dashboard.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
