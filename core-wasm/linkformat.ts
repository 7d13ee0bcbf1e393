// CoRE Link Format (RFC 6690), what a node answers on /.well-known/core:
//   </temperature>;rt="temperature";if="sensor";ct="0 50";obs,</led>;title="LED, red; 5mm"
// Plain TypeScript on purpose: the output is JS strings and objects, which WASM cannot make any
// cheaper, and discovery happens once per node. Tolerant where real nodes differ (whitespace and
// newlines around separators, a trailing comma, upper-case parameter names), strict where the
// text is ambiguous (unterminated URI or quote, missing "<", junk between links): CoreError.
import { CoreError } from "./errors.ts";

export interface Link {
  /** The URI-Reference between "<" and ">", as written. */
  href: string;
  /** Parameter names lower-cased; valueless ones (`obs`) are `true`; the first occurrence wins. */
  attrs: Record<string, string | true>;
}

/** Longest document parsed (a /.well-known/core of a constrained node is well under this). */
export const MAX_LINK_FORMAT_LENGTH = 65536;

// RFC 5988 parmname characters, plus "*" for extended names such as title*.
function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x21 || c === 0x23 || c === 0x24 || c === 0x26 || c === 0x2b || c === 0x2d ||
    c === 0x2e || c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e ||
    c === 0x2a;
}
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
// An unquoted value (ptoken) ends at a separator, a quote or whitespace.
function endsToken(c: number): boolean {
  return c === 0x3b || c === 0x2c || c === 0x22 || isSpace(c);
}

/** Parses a link-format document; throws CoreError("invalid" | "too_long", offset). */
export function parseLinkFormat(text: string): Link[] {
  if (text.length > MAX_LINK_FORMAT_LENGTH) {
    throw new CoreError("too_long", MAX_LINK_FORMAT_LENGTH, "link-format document");
  }
  const links: Link[] = [];
  const n = text.length;
  let i = 0;
  const skip = () => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  skip();
  while (i < n) {
    if (text.charCodeAt(i) !== 0x3c) throw new CoreError("invalid", i, 'expected "<"');
    const close = text.indexOf(">", i + 1);
    if (close < 0) throw new CoreError("invalid", i, "unterminated URI reference");
    const href = text.slice(i + 1, close);
    if (/[\s<"]/.test(href)) throw new CoreError("invalid", i + 1, "bad URI reference");
    const attrs: Record<string, string | true> = Object.create(null);
    i = close + 1;
    skip();
    while (i < n && text.charCodeAt(i) === 0x3b) {
      i++;
      skip();
      const start = i;
      while (i < n && isNameChar(text.charCodeAt(i))) i++;
      if (i === start) throw new CoreError("invalid", i, "expected a parameter name");
      const name = text.slice(start, i).toLowerCase();
      skip();
      let value: string | true = true;
      if (i < n && text.charCodeAt(i) === 0x3d) {
        i++;
        skip();
        if (i < n && text.charCodeAt(i) === 0x22) {
          const q = i;
          i++;
          let v = "";
          let from = i;
          for (;;) {
            if (i >= n) throw new CoreError("invalid", q, "unterminated quoted string");
            const c = text.charCodeAt(i);
            if (c === 0x22) break;
            if (c === 0x5c) {
              if (i + 1 >= n) throw new CoreError("invalid", q, "unterminated quoted string");
              v += text.slice(from, i);
              from = i + 1; // keep the escaped character itself
              i += 2;
              continue;
            }
            i++;
          }
          value = v + text.slice(from, i);
          i++;
        } else {
          const start = i;
          while (i < n && !endsToken(text.charCodeAt(i))) i++;
          if (i === start) throw new CoreError("invalid", i, `empty value for ${name}`);
          value = text.slice(start, i);
        }
        skip();
      }
      if (!(name in attrs)) attrs[name] = value;
    }
    links.push({ href, attrs: { ...attrs } });
    if (i >= n) break;
    if (text.charCodeAt(i) !== 0x2c) throw new CoreError("invalid", i, 'expected "," or ";"');
    i++;
    skip();
  }
  return links;
}

/** The Content-Format numbers of a link's `ct` attribute ("0 50" -> [0, 50]); [] when absent. */
export function linkContentFormats(link: Link): number[] {
  const ct = link.attrs.ct;
  if (typeof ct !== "string") return [];
  const out: number[] = [];
  for (const part of ct.split(/\s+/)) {
    if (/^\d{1,5}$/.test(part) && Number(part) <= 65535) out.push(Number(part));
  }
  return out;
}

/** Serialises links; values are quoted unless they are plain tokens (the inverse of parsing). */
export function formatLinkFormat(links: Link[]): string {
  return links.map((l) => {
    let s = `<${l.href}>`;
    for (const [k, v] of Object.entries(l.attrs)) {
      if (v === true) s += `;${k}`;
      else if (/^[!#$%&'()*+\-./0-9:<=>?@A-Z[\]^_`a-z{|}~]+$/.test(v)) s += `;${k}=${v}`;
      else s += `;${k}="${v.replace(/[\\"]/g, (c) => "\\" + c)}"`;
    }
    return s;
  }).join(",");
}
