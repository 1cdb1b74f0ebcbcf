/**
 * Shrinks a failing input while it keeps failing (delta debugging: drop lines, then ever
 * smaller runs of characters), so that a fuzz failure prints the smallest input it found.
 *
 * @example
 * ```ts
 * import { minimize } from "./minimize.ts";
 * const small = await minimize("aaa\nbXb\nccc\n", (t) => t.includes("X"));
 * if (small !== "X") throw new Error(small);
 * ```
 *
 * @module
 */

/**
 * The smallest text found that still satisfies `fails` (which `text` must satisfy), trying
 * at most `budget` candidates.
 */
export async function minimize(
  text: string,
  fails: (candidate: string) => boolean | Promise<boolean>,
  budget = 2000,
): Promise<string> {
  let best = text;
  let tries = 0;
  const attempt = async (candidate: string): Promise<boolean> => {
    if (tries >= budget || candidate.length >= best.length) return false;
    tries++;
    if (!(await fails(candidate))) return false;
    best = candidate;
    return true;
  };
  // Lines first (cheap, big steps), then characters.
  for (const unit of ["line", "char"] as const) {
    let chunk = Math.max(1, Math.floor(pieces(best, unit).length / 2));
    while (chunk >= 1 && tries < budget) {
      let progressed = false;
      const parts = pieces(best, unit);
      for (let at = 0; at < parts.length && tries < budget;) {
        const candidate = [...parts.slice(0, at), ...parts.slice(at + chunk)].join("");
        if (await attempt(candidate)) {
          parts.splice(at, chunk);
          progressed = true;
        } else at += chunk;
      }
      if (!progressed) chunk = Math.floor(chunk / 2);
    }
  }
  return best;
}

function pieces(text: string, unit: "line" | "char"): string[] {
  if (unit === "char") return [...text];
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}
