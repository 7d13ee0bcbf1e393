// The MQTT-SN gateway's building blocks: the subscription trie against a reference matcher on
// random filters and topics, per-client topic ids, pre-defined ids from a JSON file, the
// per-source rate limiter and the keep-alive tolerance.
import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { filterMatches, isValidFilter, TopicTree } from "../gateway/mqttsn/topic_tree.ts";
import { TopicIds } from "../gateway/mqttsn/topic_ids.ts";
import { PredefinedTopics, readPredefinedFile } from "../gateway/mqttsn/predefined.ts";
import { RateLimiter } from "../gateway/mqttsn/rate_limit.ts";
import { supervisionMs } from "../gateway/mqttsn/session.ts";
import { prng } from "./helpers/mqttsn_gen.ts";

Deno.test("reference matcher follows MQTT's rules", () => {
  const yes: [string, string][] = [
    ["a/b", "a/b"],
    ["a/+", "a/b"],
    ["a/#", "a"],
    ["a/#", "a/b/c"],
    ["#", "a/b"],
    ["+/+", "a/b"],
    ["+", ""],
    ["a/+/c", "a//c"],
  ];
  const no: [string, string][] = [
    ["a/b", "a/c"],
    ["a/+", "a/b/c"],
    ["a/+", "a"],
    ["#", "$SYS/x"],
    ["+/x", "$SYS/x"],
    ["a/b/c", "a/b"],
  ];
  for (const [f, t] of yes) ok(filterMatches(f, t), `${f} ~ ${t}`);
  for (const [f, t] of no) ok(!filterMatches(f, t), `${f} !~ ${t}`);
  ok(isValidFilter("a/+/#"));
  for (const bad of ["", "a/#/b", "a+/b", "a/b#"]) ok(!isValidFilter(bad), bad);
});

Deno.test("property: the trie matches exactly what the reference matcher matches", () => {
  const r = prng(7);
  const int = (n: number) => Math.floor(r() * n);
  const word = () => ["a", "b", "c", "", "$SYS"][int(5)];
  const topic = () => Array.from({ length: 1 + int(4) }, word).join("/");
  const filter = () => {
    const n = 1 + int(4);
    const levels = Array.from({ length: n }, () => ["a", "b", "c", "+", ""][int(5)]);
    if (r() < 0.3) levels[n - 1] = "#";
    return levels.join("/");
  };
  for (let round = 0; round < 50; round++) {
    const tree = new TopicTree<number, string>();
    const filters = new Map<number, string>();
    for (let k = 0; k < 30; k++) {
      const f = filter();
      filters.set(k, f);
      tree.add(f, k, f);
    }
    // Remove some again: pruning must not lose the others.
    for (let k = 0; k < 30; k += 3) {
      ok(tree.remove(filters.get(k)!, k));
      filters.delete(k);
    }
    equal(tree.size, filters.size);
    for (let i = 0; i < 40; i++) {
      const t = topic();
      const got: number[] = [];
      tree.match(t, (k) => got.push(k));
      const want = [...filters].filter(([, f]) => filterMatches(f, t)).map(([k]) => k);
      deepEqual(got.sort((a, b) => a - b), want.sort((a, b) => a - b), `topic ${t}`);
    }
  }
});

Deno.test("topic ids: per table from 1, stable per name, bounded, reserved ids skipped", () => {
  const ids = new TopicIds(3);
  equal(ids.idFor("a")!.id, 1);
  equal(ids.idFor("b")!.id, 2);
  equal(ids.idFor("a")!.id, 1);
  equal(ids.byId(2)!.name, "b");
  equal(ids.idFor("c")!.id, 3);
  equal(ids.idFor("d"), undefined); // full
  ids.idFor("a")!.known = true;
  ids.forgetKnown();
  equal(ids.byName("a")!.known, false);
  const other = new TopicIds();
  equal(other.idFor("b")!.id, 1); // another client's table is its own
  const wrap = new TopicIds(70_000);
  for (let i = 0; i < 0xfffe; i++) wrap.idFor(`t${i}`);
  equal(wrap.byId(0xffff), undefined);
  equal(wrap.byId(0), undefined);
  equal(wrap.size, 0xfffe);
});

Deno.test("pre-defined ids come from a JSON file and are validated", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify({ "sensors/temp": 1, "cmd/led": 42 }));
    const p = new PredefinedTopics(await readPredefinedFile(file));
    equal(p.name(42), "cmd/led");
    equal(p.id("sensors/temp"), 1);
    equal(p.name(2), undefined);
    await Deno.writeTextFile(file, "[1,2]");
    await rejects(() => readPredefinedFile(file));
  } finally {
    await Deno.remove(file);
  }
  throws(() => new PredefinedTopics({ "a/+": 1 }));
  throws(() => new PredefinedTopics({ a: 0 }));
  throws(() => new PredefinedTopics({ a: 0xffff }));
  throws(() => new PredefinedTopics({ a: 1, b: 1 }));
});

Deno.test("rate limiter: burst then the sustained rate, per source, idle buckets pruned", () => {
  let now = 0;
  const rl = new RateLimiter({ perSecond: 10, burst: 5, now: () => now });
  let ok1 = 0;
  for (let i = 0; i < 20; i++) if (rl.allow("a")) ok1++;
  equal(ok1, 5);
  ok(rl.allow("b"), "another source is unaffected");
  now += 1000; // 10 tokens, capped at the burst of 5
  let ok2 = 0;
  for (let i = 0; i < 20; i++) if (rl.allow("a")) ok2++;
  equal(ok2, 5);
  now += 10_000;
  rl.prune();
  equal(rl.sources, 0);
});

Deno.test("supervision tolerance: +50 % up to a minute, +10 % above, 0 is off", () => {
  equal(supervisionMs(10), 15_000);
  equal(supervisionMs(60), 90_000);
  equal(supervisionMs(360), 396_000);
  equal(supervisionMs(0), Infinity);
});
