// Lexical scopes for parameters, loop variables and named values.
import type { Value } from './values.ts';

export class Scope {
  private readonly vars = new Map<string, Value>();
  private readonly parent: Scope | null;

  constructor(parent: Scope | null) {
    this.parent = parent;
  }

  lookup(name: string): Value | undefined {
    return this.vars.get(name) ?? this.parent?.lookup(name);
  }

  set(name: string, v: Value): void {
    this.vars.set(name, v);
  }

  /** Every visible name, innermost first (for "did you mean" suggestions). */
  names(): string[] {
    return [...this.vars.keys(), ...(this.parent?.names() ?? [])];
  }
}
