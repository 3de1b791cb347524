/** The shape of an engine's implementation of one area of the store contract. */

/**
 * An engine's implementation of the area `T`: a method may answer at once or with a Promise,
 * and may throw; the guard of openDb() makes every answer a Promise and every failure a
 * rejection.
 */
export type Impl<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => R | Promise<R>
    : T[K];
};
