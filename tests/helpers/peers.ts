// Which independent peers (Debian programs) this machine has. Tests that need one are ignored,
// visibly, where it is missing, so `deno task test` passes on a machine with only Deno;
// `.ci/run` installs every peer and sets AIOT_REQUIRE_PEERS=1, which turns a missing peer into
// a failure instead, so CI can never go green by skipping them.

function onPath(cmd: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${cmd}`).isFile) return true;
    } catch { /* not here */ }
  }
  return false;
}

const required = Deno.env.get("AIOT_REQUIRE_PEERS") === "1";

function peer(name: string, ...cmds: string[]): boolean {
  const found = cmds.every(onPath);
  if (!found && required) {
    throw new Error(`peer ${name} (${cmds.join(", ")}) is missing but AIOT_REQUIRE_PEERS=1`);
  }
  return found;
}

export const peers = {
  libcoap: peer("libcoap3-bin", "coap-client-notls", "coap-server-notls"),
  mosquitto: peer("mosquitto", "mosquitto", "mosquitto_pub", "mosquitto_sub"),
  chromium: peer("chromium", "chromium"),
  openssl: peer("openssl", "openssl"),
};

/** `Deno.test({ ..., ignore: missing("libcoap") })` */
export function missing(name: keyof typeof peers): boolean {
  return !peers[name];
}
