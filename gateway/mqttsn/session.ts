// One MQTT-SN client as the gateway sees it [5.8]: its state, supervision deadline, Will, topic
// ids, subscriptions, buffered deliveries and the one QoS 1/2 exchange (or REGISTER) in flight.
import { TopicIds } from "./topic_ids.ts";

/** The spec's five states, plus `connecting` while the Will prompts run. */
export type ClientState = "connecting" | "active" | "asleep" | "awake" | "lost" | "disconnected";

/** How to reach a client: its UDP address, and the forwarder's Wireless Node Id if relayed. */
export interface Route {
  addr: Deno.NetAddr;
  nodeId?: Uint8Array;
}

export interface Will {
  topic: string;
  msg: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** A subscription as the client made it; `form` is the TopicIdType it subscribed with. */
export interface Subscription {
  filter: string;
  qos: 0 | 1 | 2;
  form: 0 | 1 | 2;
  /** Pre-defined id for form 1. */
  predefinedId?: number;
}

/** A message waiting to go to the client. */
export interface Delivery {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  form: 0 | 1 | 2;
  predefinedId?: number;
}

/** The gateway's own outstanding exchange with the client (one at a time). */
export interface Inflight {
  kind: "register" | "publish" | "pubrel";
  msgId: number;
  bytes: Uint8Array;
  /** Sends so far, the first included. */
  sends: number;
  due: number;
  topicId?: number;
}

/**
 * Supervision time for a keep-alive or sleep duration, with the [7.2] tolerance: +10 % above
 * one minute, +50 % otherwise (emcute pings exactly every Duration). 0 turns supervision off.
 */
export function supervisionMs(durationS: number): number {
  if (durationS <= 0) return Infinity;
  return durationS * (durationS > 60 ? 1100 : 1500); // integers: no 396000.00000000006
}

export class Client {
  /** Transport key (address, or forwarder address + node id); "" when detached. */
  key: string;
  route: Route;
  clientId = "";
  state: ClientState = "disconnected";
  cleanSession = true;
  keepAliveS = 0;
  sleepS = 0;
  /** When supervision declares the client lost (ms since epoch). */
  deadline = Infinity;
  will?: Will;
  /** Will topic received during connect, waiting for WILLMSG. */
  pendingWill?: Omit<Will, "msg">;
  topics: TopicIds;
  subs = new Map<string, Subscription>();
  outbox: Delivery[] = [];
  inflight?: Inflight;
  /** Awake sleeper: PINGRESP is owed once the buffered batch is delivered. */
  pingOwed = false;
  /** QoS 2 MsgIds received and PUBREC'd, waiting for PUBREL (forwarded once each). */
  qos2In = new Set<number>();
  #msgId = 0;

  constructor(key: string, route: Route, maxTopics: number) {
    this.key = key;
    this.route = route;
    this.topics = new TopicIds(maxTopics);
  }

  nextMsgId(): number {
    this.#msgId = (this.#msgId % 0xffff) + 1; // 1..65535, never 0
    return this.#msgId;
  }

  /** Connected in a way that lets the gateway send to it now. */
  get reachable(): boolean {
    return this.state === "active" || this.state === "awake";
  }
}
