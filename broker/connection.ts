// One websocket's life on the broker: the checks every incoming frame passes, in order of cost
// (rate, size, frame kind, JSON, type), before the relay sees it. A refusal is logged, counted
// and answered with a close code; nothing a peer sends can throw out of here.
import { createLogger, logEnabled } from "../common/log.ts";
import { checkFrame } from "../common/wire.ts";
import { closeReason, frameTooBig, type RateLimit, TokenBucket } from "./limits.ts";
import type { PeerKind } from "./metrics.ts";
import { CLOSE, type Frame, type Peer, type Relay } from "./relay.ts";

const log = createLogger("broker");

export interface ConnectionOptions {
  kind: PeerKind;
  /** Who it is, for logs: the gateway name or client id. */
  label: string;
  maxFrameBytes: number;
  rate: RateLimit;
  /** Binary gateway link: CBOR frame -> JSON text (core-wasm). Absent: binary frames refused. */
  decodeBinary?: (bytes: Uint8Array) => string;
  onFrame: (msg: Frame) => void;
  onClose: () => void;
}

export function wsPeer(ws: WebSocket): Peer {
  return {
    send: (text) => ws.send(text),
    close: (code, reason) => {
      // Deferred to a fresh task: Deno 2.9 drops the connection without a close frame (the
      // peer sees code 0/1006) when close() runs inside onmessage while more frames are queued.
      setTimeout(() => {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
          ws.close(code, closeReason(reason));
        }
      }, 0);
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
  };
}

/** Wires a freshly upgraded socket; `relay` is used for its metrics only. */
export function attach(ws: WebSocket, relay: Relay, opts: ConnectionOptions): Peer {
  ws.binaryType = "arraybuffer";
  const peer = wsPeer(ws);
  const bucket = new TokenBucket(opts.rate);
  const metrics = relay.metrics;
  let refused = false;
  const debug = logEnabled("debug"); // per-frame logs cost nothing when off

  const refuse = (code: number, reason: string, metric: string, detail?: string) => {
    refused = true;
    metrics.refuse(opts.kind, metric);
    log.warn("closing connection", {
      kind: opts.kind,
      peer: opts.label,
      code,
      reason: metric,
      ...(detail ? { detail: detail.slice(0, 200) } : {}),
    });
    peer.close(code, reason);
  };

  ws.onmessage = (ev: MessageEvent) => {
    if (refused) return; // frames already in flight after a refusal
    try {
      if (!bucket.take()) {
        return refuse(CLOSE.POLICY, "Rate limit exceeded", "rate_limit");
      }
      const data = ev.data as string | ArrayBuffer;
      if (frameTooBig(data, opts.maxFrameBytes)) {
        return refuse(
          CLOSE.TOO_BIG,
          `Frame larger than ${opts.maxFrameBytes} bytes`,
          "too_big",
        );
      }
      let text: string;
      if (typeof data === "string") {
        text = data;
      } else if (opts.decodeBinary) {
        try {
          text = opts.decodeBinary(new Uint8Array(data));
        } catch (err) {
          return refuse(CLOSE.UNSUPPORTED, "Invalid CBOR frame", "bad_cbor", String(err));
        }
      } else {
        return refuse(CLOSE.UNSUPPORTED, "Binary frames are not supported", "binary_frame");
      }
      if (debug) {
        log.debug("frame in", { kind: opts.kind, peer: opts.label, frame: text.slice(0, 200) });
      }
      const checked = checkFrame(text);
      if (!checked.ok) {
        return refuse(checked.code, checked.reason, "invalid_frame", checked.reason);
      }
      opts.onFrame(checked.msg);
    } catch (err) {
      // A bug of ours, not the peer's: keep the broker up and say so loudly.
      metrics.drop("internal_error");
      log.error("error handling frame", { kind: opts.kind, peer: opts.label, err });
    }
  };
  ws.onerror = () => {/* the close event follows */};
  ws.onclose = (ev: CloseEvent) => {
    log.debug("socket closed", { kind: opts.kind, peer: opts.label, code: ev.code });
    try {
      opts.onClose();
    } catch (err) {
      log.error("error cleaning up connection", { kind: opts.kind, peer: opts.label, err });
    }
  };
  return peer;
}
