import { deepEqual, equal } from "node:assert/strict";
import { NodeRegistry, type RegistryEvent } from "../gateway/registry.ts";

function recorder(reg: NodeRegistry) {
  const seen: string[] = [];
  reg.on((e: RegistryEvent) =>
    seen.push(
      e.kind === "update" ? `update ${e.node.uid} ${e.endpoint}` : `${e.kind} ${e.node.uid}`,
    )
  );
  return seen;
}

Deno.test("registry: a new node announces itself, then its pseudo-resources in order", () => {
  const reg = new NodeRegistry({ timeoutMs: 1000 });
  const events = recorder(reg);
  const first = reg.seen("n1", "10.0.0.1:5683", { ip: "10.0.0.1", protocol: "CoAP" });
  const again = reg.seen("n1", "10.0.0.2:5683");
  equal(first.created, true);
  equal(again.created, false);
  equal(again.node.address, "10.0.0.2:5683");
  deepEqual(events, ["new n1", "update n1 ip", "update n1 protocol"]);
  equal(reg.get("n1")?.protocol, "CoAP");
});

Deno.test("registry: reset keeps pseudo-resources and drops discovered ones", () => {
  const reg = new NodeRegistry({ timeoutMs: 1000 });
  reg.seen("n1", "a", { ip: "a", protocol: "CoAP" });
  reg.setValue("n1", "temperature", "21.0°C", { rt: "temperature", obs: true });
  reg.setValue("n1", "temperature", "21.5°C");
  equal(reg.get("n1")?.resources.get("temperature")?.meta?.rt, "temperature", "meta is kept");
  reg.reset("n1");
  deepEqual([...reg.get("n1")!.resources.keys()], ["ip", "protocol"]);
  equal(reg.setValue("ghost", "x", "1"), false, "unknown nodes are ignored");
});

Deno.test("registry: sweep removes only nodes silent past the timeout", () => {
  let now = 0;
  const reg = new NodeRegistry({ timeoutMs: 120_000, now: () => now });
  const events = recorder(reg);
  reg.seen("old", "a");
  now = 60_000;
  reg.seen("young", "b");
  now = 120_001;
  deepEqual(reg.sweep(), ["old"]);
  equal(reg.size, 1);
  now = 180_001;
  deepEqual(reg.sweep(), ["young"]);
  deepEqual(events.filter((e) => e.startsWith("out")), ["out old", "out young"]);
});

Deno.test("registry: a throwing listener does not stop the others", () => {
  const reg = new NodeRegistry({ timeoutMs: 1000 });
  reg.on(() => {
    throw new Error("boom");
  });
  const events = recorder(reg);
  reg.seen("n1", "a");
  deepEqual(events, ["new n1"]);
});
