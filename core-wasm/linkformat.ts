// Filled in by its owner; see docs/architecture.md for the API.
export {};
