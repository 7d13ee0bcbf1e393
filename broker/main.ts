// `deno task broker`: parse flags, read the keys, start the broker, stop cleanly on a signal.
import { createLogger, setLogLevel } from "../common/log.ts";
import { KeyFileError, readKeys } from "../common/keys.ts";
import { ConfigError, loadSettings } from "./config.ts";
import { startBroker } from "./server.ts";

const log = createLogger("broker");

async function main(): Promise<number> {
  let settings;
  try {
    settings = await loadSettings(Deno.args);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return err.message.startsWith("Usage:") ? 0 : 2;
  }
  if (settings.debug) setLogLevel("debug");
  let keys;
  try {
    keys = await readKeys(settings.keyFile);
  } catch (err) {
    if (!(err instanceof KeyFileError)) throw err;
    log.error(err.message); // pyaiot's exact words (spec 1)
    return 1;
  }
  const broker = await startBroker({ ...settings, keys });
  const stopped = Promise.withResolvers<void>();
  const stop = (signal: string) => {
    log.info("stopping", { signal });
    broker.close().then(() => stopped.resolve());
  };
  const onInt = () => stop("SIGINT");
  const onTerm = () => stop("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  await stopped.promise;
  Deno.removeSignalListener("SIGINT", onInt);
  Deno.removeSignalListener("SIGTERM", onTerm);
  return 0;
}

Deno.exit(await main());
