// Typed access to the few browser APIs the components use beyond what Lit types.
// The components are checked by the root `deno check .` in one program with the Deno services,
// and the DOM lib (`/// <reference lib="dom" />`) would apply to that whole program, where its
// stream types clash with Deno's. So the DOM lib is not loaded and these shapes stand in for it.

export interface BrowserGlobals {
  customElements: {
    get(name: string): unknown;
    define(name: string, constructor: unknown): void;
  };
  matchMedia?: (query: string) => { matches: boolean };
}

export const browser = globalThis as unknown as BrowserGlobals;

/** An <input> or <textarea>, as far as the widgets need one. */
export interface ValueField {
  value: string;
}

/** A <form> whose field named `name` is read on submit. */
export function formField(event: Event, name: string): ValueField {
  const form = event.currentTarget as unknown as {
    elements: { namedItem(name: string): ValueField | null };
  };
  const field = form.elements.namedItem(name);
  if (!field) throw new Error(`form has no field ${name}`);
  return field;
}

/** The value of the element an input event came from. */
export function targetValue(event: Event): string {
  return (event.target as unknown as ValueField).value;
}

export function prefersDark(): boolean {
  return browser.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
}

/** Defines a custom element once (a page may load the bundle twice). */
export function defineOnce(name: string, constructor: unknown): void {
  if (!browser.customElements.get(name)) browser.customElements.define(name, constructor);
}
