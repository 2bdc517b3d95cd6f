import { createHash } from 'node:crypto';

/** Weight of `member` for `key`: 48 bits of SHA-256, plenty to make ties vanishingly rare. */
export function rendezvousWeight(member: string, key: string): number {
  return createHash('sha256').update(member).update('\0').update(key).digest().readUIntBE(0, 6);
}

/**
 * Highest-random-weight owner of `key` among `members` (undefined when there are none).
 * Removing a member moves only the keys it owned; adding one takes about 1/n of the keys.
 */
export function rendezvousOwner(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const member of members) {
    const weight = rendezvousWeight(member, key);
    // Tie-break on the id so every replica picks the same owner.
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && member > best)) {
      best = member;
      bestWeight = weight;
    }
  }
  return best;
}
