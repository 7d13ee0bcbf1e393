// `deno task keys`: writes a new keys file in pyaiot's INI format (spec 1), owner-only
// (file 0600, new directory 0700), and prints the keys. Unlike pyaiot's aiot-generate-keys it
// never overwrites an existing file unless told to with --force.
import { parseArgs } from "node:util";
import { dirname } from "node:path";
import { defaultKeyPath, formatKeys, generateKeys } from "../common/keys.ts";

const USAGE = `Usage: deno task keys [--key-file PATH] [--force]
  --key-file PATH  where to write (default ~/.pyaiot/keys)
  --force          replace an existing file`;

async function main(): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: Deno.args,
      strict: true,
      options: {
        "key-file": { type: "string" },
        force: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const path = values["key-file"] ?? defaultKeyPath();
  const dir = dirname(path);
  try {
    await Deno.stat(dir);
  } catch {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.chmod(dir, 0o700); // mkdir's mode is filtered by the umask
  }
  const keys = generateKeys();
  const text = formatKeys(keys);
  if (values.force) {
    // Write aside then rename: the old file is replaced whole, never left half written, and
    // the new one is 0600 whatever the old one's mode was.
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(tmp, text, { mode: 0o600, createNew: true });
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, path);
  } else {
    try {
      await Deno.writeTextFile(path, text, { mode: 0o600, createNew: true });
      await Deno.chmod(path, 0o600);
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) {
        console.error(`Key file already exists: '${path}' (use --force to replace it)`);
        return 1;
      }
      throw err;
    }
  }
  console.log(`Keys written to '${path}'`);
  console.log(`secret: ${keys.secret}`);
  console.log(`private: ${keys.private}`);
  return 0;
}

Deno.exit(await main());
