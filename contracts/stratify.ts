/**
 * The one stratified assignment, shared by dataset splits (train/validation/test at import) and a
 * recipe's validation hold-out, so both cut classes the same way and a fix reaches both.
 */

/**
 * Assigns each of `rows` a part: each stratum's rows (strata in ascending order) are shuffled with
 * `random` (Fisher–Yates, from the last element down) and dealt round(n × fraction) at a time into
 * the held-out parts in the order `heldOut` lists them; the rest stay in part 0. A stratum of two or
 * more rows always keeps one row in part 0 (the largest held-out part gives way first, the later one
 * on ties); a stratum of one row stays whole in part 0.
 *
 * Returns, for each position of `rows`, 0 or 1 + the index of its held-out part.
 */
export function stratify(rows: ArrayLike<number>, stratumOf: (row: number) => number, heldOut: readonly number[], random: () => number): Uint8Array {
  const members = new Map<number, number[]>();
  for (let position = 0; position < rows.length; position += 1) {
    const stratum = stratumOf(rows[position] as number);
    const list = members.get(stratum);
    if (list) list.push(position);
    else members.set(stratum, [position]);
  }
  const parts = new Uint8Array(rows.length);
  for (const stratum of [...members.keys()].sort((a, b) => a - b)) {
    const positions = members.get(stratum) as number[];
    shuffle(positions, random);
    const counts = heldOut.map((fraction) => Math.max(0, Math.round(positions.length * fraction)));
    const maxHeldOut = positions.length >= 2 ? positions.length - 1 : 0;
    let total = counts.reduce((sum, count) => sum + count, 0);
    while (total > maxHeldOut) {
      let largest = 0;
      for (let part = 1; part < counts.length; part += 1) if ((counts[part] as number) >= (counts[largest] as number)) largest = part;
      counts[largest] = (counts[largest] as number) - 1;
      total -= 1;
    }
    let next = 0;
    counts.forEach((count, part) => {
      for (let k = 0; k < count; k += 1) parts[positions[next++] as number] = part + 1;
    });
  }
  return parts;
}

function shuffle(items: number[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    const swap = items[i] as number;
    items[i] = items[j] as number;
    items[j] = swap;
  }
}
