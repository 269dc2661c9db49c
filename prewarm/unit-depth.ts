/**
 * How deeply a Data Unit nests objects and arrays, measured without recursion (an explicit
 * stack), so a unit of 100,000 levels costs a loop, not a stack overflow. JSON.parse builds such
 * a value happily; every recursive walk after it (structuredClone, JSON.stringify, the string
 * walk of auto-detection) would overflow, so pre-warm refuses a unit deeper than its limit
 * (PREWARM_TOO_DEEP) before any of them runs.
 */

/**
 * True when `value` nests objects/arrays more than `maxDepth` levels (the unit itself is level
 * 1: `{"a":{"b":[1]}}` has 3). Stops at the first container past the limit.
 */
export function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: Array<{ node: object; depth: number }> = [];
  if (typeof value === 'object' && value !== null) stack.push({ node: value, depth: 1 });
  for (;;) {
    const top = stack.pop();
    if (top === undefined) return false;
    if (top.depth > maxDepth) return true;
    const children: unknown[] = Array.isArray(top.node) ? top.node : Object.values(top.node);
    for (const child of children)
      if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: top.depth + 1 });
  }
}
