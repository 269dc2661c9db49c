/** The per-run memo of pre-warm: original → outcome, external URL → ingested key. */

/** A map that forgets its oldest settled entries past `max` (in-flight ones stay). */
export function boundedCache<T>(max: number) {
  const map = new Map<string, Promise<T>>();
  const settled = new Set<string>();
  return {
    get: (key: string) => map.get(key),
    set(key: string, value: Promise<T>) {
      map.set(key, value);
      value.then(
        () => settled.add(key),
        () => settled.add(key),
      );
      if (map.size > max) {
        for (const k of settled) {
          if (map.size <= max) break;
          map.delete(k);
          settled.delete(k);
        }
      }
    },
  };
}
