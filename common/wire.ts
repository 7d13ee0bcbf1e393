// pyaiot's wire protocol between gateways, broker and web clients (shared/spec section 2),
// plus aiot's additive fields (docs/protocol.md). Every frame is a JSON object.

export const MESSAGE_TYPES = ["new", "update", "out", "reset"] as const;
export type MessageType = typeof MESSAGE_TYPES[number];

/** Link-format attributes of a resource (aiot extension, ignored by pyaiot clients). */
export interface ResourceMeta {
  rt?: string;
  if?: string;
  ct?: number;
  title?: string;
  obs?: boolean;
}

// Gateway -> broker, and broker -> web client (the broker relays these as they are, adding
// only the aiot field `gw`).
export interface NodeNew {
  type: "new";
  uid: string;
  dst?: string;
  gw?: string;
}
export interface NodeUpdate {
  type: "update";
  uid: string;
  endpoint: string;
  data: unknown;
  dst?: string;
  meta?: ResourceMeta;
  gw?: string;
}
export interface NodeOut {
  type: "out";
  uid: string;
  gw?: string;
}
export interface NodeReset {
  type: "reset";
  uid: string;
  gw?: string;
}
export type GatewayMessage = NodeNew | NodeUpdate | NodeOut | NodeReset;

// Web client -> broker; the broker adds `src` and forwards to gateways.
export interface ClientNew {
  type: "new";
  data: "client";
  src?: string;
}
export interface ClientWrite {
  type: "update";
  data: { uid: string; endpoint: string; payload: string };
  src?: string;
}
export type ClientMessage = ClientNew | ClientWrite;

/** The gateway keep-alive pyaiot sends every 30 s; brokers drop it (uid not owned). */
export const GATEWAY_ALIVE: NodeUpdate = { type: "update", uid: "alive", endpoint: "", data: "" };
export const GATEWAY_ALIVE_TEXT = '{"type":"update","uid":"alive"}';

export type FrameCheck =
  | { ok: true; msg: Record<string, unknown> & { type: MessageType } }
  | { ok: false; code: 1003; reason: string };

/**
 * pyaiot's frame check (spec 2.4) with its exact close reasons, including the doubled full stop.
 * Unlike pyaiot, shapes it would crash on (no `type`, arrays) are refused the same clean way.
 */
export function checkFrame(raw: string): FrameCheck {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return {
      ok: false,
      code: 1003,
      reason: `Invalid message received '${raw}'. Only JSON format is supported..`,
    };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, code: 1003, reason: `Invalid message '${JSON.stringify(value)}'..` };
  }
  const type = (value as Record<string, unknown>).type;
  if (typeof type !== "string" || !(MESSAGE_TYPES as readonly string[]).includes(type)) {
    return { ok: false, code: 1003, reason: `Invalid message type '${String(type)}'..` };
  }
  return { ok: true, msg: value as Record<string, unknown> & { type: MessageType } };
}

/** A client write as gateways accept it: data has exactly uid, endpoint, payload (spec 2.5). */
export function asClientWrite(msg: Record<string, unknown>): ClientWrite | null {
  if (msg.type !== "update") return null;
  const d = msg.data;
  if (d === null || typeof d !== "object" || Array.isArray(d)) return null;
  const keys = Object.keys(d).sort().join(",");
  if (keys !== "endpoint,payload,uid") return null;
  const { uid, endpoint, payload } = d as Record<string, unknown>;
  if (typeof uid !== "string" || typeof endpoint !== "string" || typeof payload !== "string") {
    return null;
  }
  return {
    type: "update",
    data: { uid, endpoint, payload },
    src: typeof msg.src === "string" ? msg.src : undefined,
  };
}
