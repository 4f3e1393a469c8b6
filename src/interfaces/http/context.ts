import { openStore } from "../../runtime/store/open-store.js";
import type { RunStore } from "../../runtime/store/run-store.js";
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
   * Where runs live (opened on first use, kept while the server runs). Runs and decisions go to
   * its queue, for whichever worker is free (in this process, or another): the server holds no
   * run state of its own, and a restart loses nothing.
   */
  store(): Promise<RunStore>;
  /** Closes the store, if it was opened. */
  close(): Promise<void>;
}

export function serverContext(options: ServeOptions): ServerContext {
  const log = options.log ?? (() => {});
  const { cwd, env, settings, load } = options;
  let opened: Promise<RunStore> | undefined;
  const store = () => {
    opened ??= openStore(cwd, settings);
    // A database that was away is tried again by the next request, not remembered as failed.
    opened.catch(() => (opened = undefined));
    return opened;
  };
  return {
    cwd,
    env,
    settings,
    ...(load && { load }),
    log,
    background: (work, what) => void work.catch((error: unknown) => log(`${what}: ${(error as Error).message}`)),
    store,
    close: async () => (await opened?.catch(() => undefined))?.close(),
  };
}
