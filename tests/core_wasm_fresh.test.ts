// The committed core.wasm must be exactly what the sources compile to, so a fresh clone runs
// without a build step and a forgotten `deno task build` fails CI instead of shipping stale code.
import { equal as assertEquals } from "node:assert/strict";
import { buildCore } from "../core-wasm/build.ts";

Deno.test("core.wasm is built from the current AssemblyScript sources", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/core.wasm`;
    await buildCore(out);
    const fresh = await Deno.readFile(out);
    const committed = await Deno.readFile(new URL("../core-wasm/build/core.wasm", import.meta.url));
    assertEquals(
      committed.length === fresh.length && committed.every((b, i) => b === fresh[i]),
      true,
      "core-wasm/build/core.wasm is stale: run `deno task build` and commit it",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
