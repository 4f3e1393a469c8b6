import { homeDir } from "../../runtime/store.js";
import { RunQueue } from "../../service/queue.js";
import type { SurfaceContext } from "../surface.js";

/** What `coord serve` is started with. */
export interface ServeOptions extends SurfaceContext {
  host: string;
  /** Where background work reports failures it cannot answer with (a response_url that failed...). */
  log?: (message: string) => void;
  /**
   * Slow clients: a connection must send its headers within `headersMs` and its whole request
   * within `requestMs`, or it is closed (defaults 10 s and 60 s).
   */
  timeouts?: { headersMs?: number; requestMs?: number };
}

/** What every route of the server is given. */
export interface ServerContext extends SurfaceContext {
  log: (message: string) => void;
  /** Runs work that outlives its request; its failure is logged, since nobody waits for it. */
  background: (work: Promise<unknown>, what: string) => void;
  /**
   * Runs and decisions go to the queue, for whichever worker is free (in this process, or
   * another): the server holds no run state of its own, and a restart loses nothing.
   */
  queue: RunQueue;
}

export function serverContext(options: ServeOptions): ServerContext {
  const log = options.log ?? (() => {});
  const { cwd, env, settings, load } = options;
  return {
    cwd,
    env,
    settings,
    ...(load && { load }),
    log,
    background: (work, what) => void work.catch((error: unknown) => log(`${what}: ${(error as Error).message}`)),
    queue: new RunQueue(homeDir(cwd, settings)),
  };
}
