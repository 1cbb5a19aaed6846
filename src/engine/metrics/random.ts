/** The seeded generator (src/shared/random.ts) with a normal draw, for the metrics' random maps, noise and weights: the same figures on every run. */
import { seededRandom } from '../../shared/random';

export class Rng {
  private readonly uniform: () => number;
  constructor(seed: number) {
    this.uniform = seededRandom(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.uniform();
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
