// The committed components.js must be exactly what dashboard/src bundles to, so a fresh clone
// serves the current components without a build step and a forgotten `deno task build` fails CI.
import { equal } from "node:assert/strict";
import { buildComponents, BUNDLE_PATH } from "../dashboard/build.ts";

Deno.test("dashboard/static/components.js is built from the current sources", async () => {
  const fresh = await buildComponents();
  const committed = await Deno.readTextFile(BUNDLE_PATH);
  equal(
    committed === fresh,
    true,
    "dashboard/static/components.js is stale: run `deno task build` and commit it",
  );
});
