import type { Diagnostic } from "../errors.js";

/**
 * Definitions by key in precedence order: the first one found keeps the key, and each later one
 * becomes a duplicate warning naming both files. Agents and missions both work this way.
 */
export class FirstWins<T extends { file: string }> {
  readonly items: T[] = [];
  readonly diagnostics: Diagnostic[] = [];
  protected readonly byKey = new Map<string, T>();

  constructor(
    private readonly keyOf: (item: T) => string,
    private readonly duplicate: (item: T, earlier: T) => Diagnostic,
  ) {}

  /** Adds the item unless an earlier one has its key; returns the item that holds the key. */
  add(item: T): T {
    const earlier = this.byKey.get(this.keyOf(item));
    if (earlier) {
      this.diagnostics.push(this.duplicate(item, earlier));
      return earlier;
    }
    this.items.push(item);
    this.byKey.set(this.keyOf(item), item);
    return item;
  }
}
