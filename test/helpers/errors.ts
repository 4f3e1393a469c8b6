import { isCoordError, type CoordError } from "../../src/errors.js";

/** The CoordError `fn` throws; fails the test when it throws something else or nothing. */
export function thrown(fn: () => unknown): CoordError {
  try {
    fn();
  } catch (error) {
    if (isCoordError(error)) return error;
    throw error;
  }
  throw new Error("expected a CoordError, nothing was thrown");
}

/** The CoordError `promise` rejects with; fails the test when it rejects otherwise or resolves. */
export async function rejection(promise: Promise<unknown>): Promise<CoordError> {
  try {
    await promise;
  } catch (error) {
    if (isCoordError(error)) return error;
    throw error;
  }
  throw new Error("expected a CoordError, the promise resolved");
}
