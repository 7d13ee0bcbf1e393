// Compiles the AssemblyScript sources into the one core.wasm every service imports.
// Run with `deno task build`; tests/core_wasm_fresh.test.ts fails when the committed
// binary is older than its sources, so a fresh clone never needs a manual build.
import asc from "assemblyscript/asc";

const here = new URL(".", import.meta.url).pathname;

export async function buildCore(outFile = `${here}build/core.wasm`): Promise<void> {
  const { error, stderr } = await asc.main([
    `${here}assembly/index.ts`,
    "-o",
    outFile,
    "-O3",
    "--runtime",
    "stub",
    "--use",
    "abort=",
    "--noAssert",
    "--initialMemory",
    "64",
    "--maximumMemory",
    "256",
  ]);
  if (error) {
    throw new Error(`asc failed: ${error.message}\n${stderr.toString()}`);
  }
}

if (import.meta.main) {
  await buildCore(Deno.args[0]);
  console.log("core-wasm: built core-wasm/build/core.wasm");
}
