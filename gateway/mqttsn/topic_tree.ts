// The gateway's local subscription table: MQTT topic filters with `+` and `#`, indexed as a trie
// so one publish costs a walk over its levels, not a scan of every client's filters (10,000
// nodes each hold a few filters).

/** True when `name` holds a wildcard level, i.e. it can only be a filter, never a topic. */
export function hasWildcard(name: string): boolean {
  return name.includes("+") || name.includes("#");
}

/** A filter as MQTT defines it: `#` only last and alone in its level, `+` alone in its level. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0) return false;
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i];
    if (l.includes("#") && (l !== "#" || i !== levels.length - 1)) return false;
    if (l.includes("+") && l !== "+") return false;
  }
  return true;
}

/** Reference matcher, used by tests as the oracle for the trie. */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return !(i === 0 && topic.startsWith("$"));
    if (i >= t.length) return false;
    if (f[i] === "+") {
      if (i === 0 && topic.startsWith("$")) return false;
      continue;
    }
    if (f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

interface TrieNode<K, V> {
  children: Map<string, TrieNode<K, V>>;
  subs: Map<K, V>;
}

function node<K, V>(): TrieNode<K, V> {
  return { children: new Map(), subs: new Map() };
}

/** Filters -> (subscriber key -> value). One value per (filter, key). */
export class TopicTree<K, V> {
  #root: TrieNode<K, V> = node();
  #count = 0;

  get size(): number {
    return this.#count;
  }

  add(filter: string, key: K, value: V): void {
    let n = this.#root;
    for (const level of filter.split("/")) {
      let c = n.children.get(level);
      if (!c) n.children.set(level, c = node());
      n = c;
    }
    if (!n.subs.has(key)) this.#count++;
    n.subs.set(key, value);
  }

  remove(filter: string, key: K): boolean {
    const levels = filter.split("/");
    const path: TrieNode<K, V>[] = [this.#root];
    let n = this.#root;
    for (const level of levels) {
      const c = n.children.get(level);
      if (!c) return false;
      path.push(c);
      n = c;
    }
    if (!n.subs.delete(key)) return false;
    this.#count--;
    // Prune empty branches so churn (nodes coming and going) does not leak trie nodes.
    for (let i = levels.length; i > 0; i--) {
      const cur = path[i];
      if (cur.subs.size > 0 || cur.children.size > 0) break;
      path[i - 1].children.delete(levels[i - 1]);
    }
    return true;
  }

  /** Calls `visit` for every (key, value, filter-holder) whose filter matches `topic`. */
  match(topic: string, visit: (key: K, value: V) => void): void {
    const levels = topic.split("/");
    const dollar = topic.startsWith("$");
    const walk = (n: TrieNode<K, V>, i: number) => {
      const hash = n.children.get("#");
      if (hash && !(i === 0 && dollar)) hash.subs.forEach((v, k) => visit(k, v));
      if (i === levels.length) {
        n.subs.forEach((v, k) => visit(k, v));
        return;
      }
      const exact = n.children.get(levels[i]);
      if (exact) walk(exact, i + 1);
      const plus = n.children.get("+");
      if (plus && !(i === 0 && dollar)) walk(plus, i + 1);
    };
    walk(this.#root, 0);
  }
}
