// CoRE Link Format (RFC 6690): the RFC's examples, what real nodes send (RIOT, libcoap, pyaiot
// nodes), quoting, valueless and repeated attributes, whitespace, hostile text, and a
// parse(format(links)) round trip on random links.
import { deepEqual, equal, ok } from "node:assert/strict";
import { CoreError, type Link, parseLinkFormat } from "../core-wasm/mod.ts";
import { formatLinkFormat, linkContentFormats } from "../core-wasm/linkformat.ts";

function kindOf(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (e) {
    if (!(e instanceof CoreError)) throw e;
    return `${e.kind}@${e.offset}`;
  }
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("RFC 6690 section 5 examples", () => {
  // 5.1
  deepEqual(
    parseLinkFormat(
      '</sensors/temp>;if="sensor",</sensors/light>;if="sensor"',
    ),
    [
      { href: "/sensors/temp", attrs: { if: "sensor" } },
      { href: "/sensors/light", attrs: { if: "sensor" } },
    ],
  );
  // 5.2, with the RFC's line breaks.
  deepEqual(
    parseLinkFormat(
      '</sensors>;ct=40;title="Sensor Index",\n</sensors/temp>;rt="temperature-c";if="sensor",\n' +
        '</sensors/light>;rt="light-lux";if="sensor",\n' +
        '<http://www.example.com/sensors/t123>;anchor="/sensors/temp";rel="describedby",\n' +
        '</t>;anchor="/sensors/temp";rel="alternate"',
    ),
    [
      { href: "/sensors", attrs: { ct: "40", title: "Sensor Index" } },
      { href: "/sensors/temp", attrs: { rt: "temperature-c", if: "sensor" } },
      { href: "/sensors/light", attrs: { rt: "light-lux", if: "sensor" } },
      {
        href: "http://www.example.com/sensors/t123",
        attrs: { anchor: "/sensors/temp", rel: "describedby" },
      },
      { href: "/t", attrs: { anchor: "/sensors/temp", rel: "alternate" } },
    ],
  );
  // 5.3: a relation with space-separated types.
  deepEqual(parseLinkFormat('</firmware/v2.1>;rt="firmware";sz=262144')[0].attrs, {
    rt: "firmware",
    sz: "262144",
  });
});

Deno.test("what nodes send: obs, ct lists, quoted commas and semicolons, whitespace", () => {
  const text = ' </temperature>;rt="temperature";if="sensor";ct="0 50";obs ,\r\n\t' +
    '</led> ; title = "LED, red; 5mm" ; ct=0 ; OBS,</name>;title="say \\"hi\\" \\\\o/",';
  const links = parseLinkFormat(text);
  deepEqual(links, [
    {
      href: "/temperature",
      attrs: { rt: "temperature", if: "sensor", ct: "0 50", obs: true },
    },
    { href: "/led", attrs: { title: "LED, red; 5mm", ct: "0", obs: true } },
    { href: "/name", attrs: { title: 'say "hi" \\o/' } },
  ]);
  deepEqual(linkContentFormats(links[0]), [0, 50]);
  deepEqual(linkContentFormats(links[1]), [0]);
  deepEqual(linkContentFormats(links[2]), []);
  // libcoap's coap-server-notls /.well-known/core.
  deepEqual(
    parseLinkFormat(
      '</>;title="General Info";ct=0,</time>;if="clock";rt="ticks";title="Internal Clock";ct=0;obs,</async>;ct=0,</example_data>;title="Example Data";ct=0;obs',
    ).map((l) => l.href),
    ["/", "/time", "/async", "/example_data"],
  );
  // First occurrence wins; names are case-insensitive; an empty document has no links.
  deepEqual(parseLinkFormat('</a>;rt="x";RT="y"')[0].attrs, { rt: "x" });
  deepEqual(parseLinkFormat(""), []);
  deepEqual(parseLinkFormat(" \n "), []);
  deepEqual(parseLinkFormat('</a>;title=""')[0].attrs, { title: "" });
  // Attribute names that are Object.prototype members are plain data.
  const odd = parseLinkFormat("</a>;constructor;__proto__=x;toString=1")[0].attrs;
  equal(odd.constructor, true);
  equal(Object.getPrototypeOf(odd), Object.prototype);
  equal(Object.keys(odd).length, 3);
});

Deno.test("malformed link-format is a CoreError with offset", () => {
  const cases: [string, string][] = [
    ["/a", "invalid@0"],
    ["</a", "invalid@0"],
    ['</a>;title="open', "invalid@11"],
    ['</a>;title="esc\\', "invalid@11"],
    ["</a>;", "invalid@5"],
    ["</a>;=x", "invalid@5"],
    ["</a>;rt=", "invalid@8"],
    ["</a>;rt=;", "invalid@8"],
    ["</a> </b>", "invalid@5"],
    ["</a>,,</b>", "invalid@5"],
    ['</a>;rt="x"y', "invalid@11"],
    ["<a b>", "invalid@1"],
    ["</a>;r@t=1", "invalid@6"],
  ];
  for (const [text, want] of cases) equal(kindOf(() => parseLinkFormat(text)), want, text);
  equal(kindOf(() => parseLinkFormat("</a>,".repeat(20000))), "too_long@65536");
});

Deno.test("parse(format(links)) is links for random links; hostile text gives CoreError only", () => {
  const rand = prng(6690);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = (s: string) => s[int(s.length)];
  const word = (chars: string, min: number) => {
    let s = "";
    for (let n = min + int(8); n > 0; n--) s += pick(chars);
    return s;
  };
  const nameChars = "abcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~";
  const valueChars = 'abcXYZ019 ,;="\\/<>\u00e9\u2603\n';
  for (let i = 0; i < 3000; i++) {
    const links: Link[] = [];
    for (let n = int(5); n > 0; n--) {
      const attrs: Record<string, string | true> = {};
      for (let k = int(5); k > 0; k--) {
        const name = word(nameChars, 1);
        if (!(name in attrs)) attrs[name] = rand() < 0.2 ? true : word(valueChars, 0);
      }
      links.push({ href: "/" + word("abc/._-~%09", 0), attrs });
    }
    const text = formatLinkFormat(links);
    deepEqual(parseLinkFormat(text), links, text);
  }
  // Fuzz: random text over the grammar's alphabet and mutations of a real document.
  const real = '</temperature>;rt="temperature";ct="0 50";obs,</led>;title="LED, red; 5mm"';
  let parsed = 0;
  for (let i = 0; i < 100_000; i++) {
    let text: string;
    if (i % 2 === 0) text = word('<>/;,="\\ \na=bt\u00e9', 0) + word('<>/;,="\\ ', 0);
    else {
      const chars = [...real];
      for (let k = 1 + int(3); k > 0; k--) chars[int(chars.length)] = pick('<>;,="\\ x');
      text = chars.join("");
    }
    try {
      const links = parseLinkFormat(text);
      parsed++;
      for (const l of links) ok(typeof l.href === "string" && typeof l.attrs === "object");
      // What parses re-serialises to something that parses to the same links.
      deepEqual(parseLinkFormat(formatLinkFormat(links)), links);
    } catch (e) {
      ok(e instanceof CoreError, String(e));
    }
  }
  ok(parsed > 1000, `only ${parsed} fuzz inputs parsed`);
});
