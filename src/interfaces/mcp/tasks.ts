import { randomBytes } from "node:crypto";
import { isTerminal, type CreateTaskOptions, type TaskStore } from "@modelcontextprotocol/sdk/experimental/tasks";
import type { Request, RequestId, Result, Task } from "@modelcontextprotocol/sdk/types.js";

/** How long a finished task and its result are kept when the client asks for no ttl. */
const DEFAULT_TTL_MS = 60 * 60 * 1000;
/** How long the stand-in task of a call that asked for none is kept, once answered, if its answer is never read. */
const STAND_IN_TTL_MS = 60 * 1000;
const PAGE_SIZE = 100;

interface Stored {
  task: Task;
  sessionId: string | undefined;
  /** Made for a tools/call that did not ask for a task: never listed, dropped once its result is read. */
  standIn: boolean;
  result?: Result;
  timer?: NodeJS.Timeout;
}

/**
 * The MCP tasks (experimental in the SDK) of one `coord mcp` process, in memory.
 *
 * The SDK runs a tool registered as a task for every call, also one that did not ask for a task:
 * it creates a task and polls it until it ends. The store sees the request behind each task, so
 * `isStandIn` tells the tool which calls did not ask: it answers those as a plain tool, and their
 * task never shows in tasks/list. A task is kept while it works, however long the run takes, and
 * for its ttl once it has ended. A run cannot be stopped from here, so tasks/cancel is refused.
 */
export class RunTaskStore implements TaskStore {
  private readonly tasks = new Map<string, Stored>();

  async createTask(params: CreateTaskOptions, _requestId: RequestId, request: Request, sessionId?: string): Promise<Task> {
    const standIn = !(request.params as { task?: unknown } | undefined)?.task;
    const now = new Date().toISOString();
    const task: Task = {
      taskId: randomBytes(16).toString("hex"),
      status: "working",
      ttl: standIn ? STAND_IN_TTL_MS : (params.ttl ?? DEFAULT_TTL_MS),
      createdAt: now,
      lastUpdatedAt: now,
      pollInterval: params.pollInterval ?? 1000,
    };
    const stored: Stored = { task, sessionId, standIn };
    this.tasks.set(task.taskId, stored);
    return { ...task };
  }

  /** Whether a task stands in for a call that did not ask for one. */
  isStandIn(taskId: string): boolean {
    return this.tasks.get(taskId)?.standIn ?? false;
  }

  /** Sets a task's status message without changing its status (nor telling the client). */
  describe(taskId: string, message: string): void {
    const stored = this.tasks.get(taskId);
    if (stored) stored.task.statusMessage = message;
  }

  async getTask(taskId: string, sessionId?: string): Promise<Task | null> {
    const stored = this.lookup(taskId, sessionId);
    return stored ? { ...stored.task } : null;
  }

  async storeTaskResult(taskId: string, status: "completed" | "failed", result: Result, sessionId?: string): Promise<void> {
    const stored = this.open(taskId, sessionId);
    stored.result = result;
    this.settle(taskId, stored, status);
  }

  async getTaskResult(taskId: string, sessionId?: string): Promise<Result> {
    const stored = this.lookup(taskId, sessionId);
    if (!stored) throw new Error(`Task ${taskId} not found`);
    if (!stored.result) throw new Error(`Task ${taskId} has no result yet`);
    if (stored.standIn) this.drop(taskId);
    return stored.result;
  }

  async updateTaskStatus(taskId: string, status: Task["status"], statusMessage?: string, sessionId?: string): Promise<void> {
    if (status === "cancelled") {
      throw new Error("a coord run cannot be stopped from MCP; it carries on (wait_run, get_run)");
    }
    const stored = this.open(taskId, sessionId);
    if (statusMessage) stored.task.statusMessage = statusMessage;
    if (isTerminal(status)) this.settle(taskId, stored, status);
    else {
      stored.task.status = status;
      stored.task.lastUpdatedAt = new Date().toISOString();
    }
  }

  async listTasks(cursor?: string, sessionId?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const visible = [...this.tasks.values()].filter((s) => !s.standIn && (sessionId === undefined || s.sessionId === undefined || s.sessionId === sessionId));
    const start = cursor === undefined ? 0 : visible.findIndex((s) => s.task.taskId === cursor) + 1;
    if (start === 0 && cursor !== undefined) throw new Error(`unknown cursor ${cursor}`);
    const page = visible.slice(start, start + PAGE_SIZE);
    const more = start + PAGE_SIZE < visible.length;
    return { tasks: page.map((s) => ({ ...s.task })), ...(more && { nextCursor: page.at(-1)!.task.taskId }) };
  }

  /** A task of this session (tasks made without a session are everyone's), as the SDK's own store does. */
  private lookup(taskId: string, sessionId: string | undefined): Stored | undefined {
    const stored = this.tasks.get(taskId);
    if (stored && sessionId !== undefined && stored.sessionId !== undefined && stored.sessionId !== sessionId) return undefined;
    return stored;
  }

  private open(taskId: string, sessionId: string | undefined): Stored {
    const stored = this.lookup(taskId, sessionId);
    if (!stored) throw new Error(`Task ${taskId} not found`);
    if (isTerminal(stored.task.status)) throw new Error(`Task ${taskId} has ended (${stored.task.status}); it cannot change`);
    return stored;
  }

  private settle(taskId: string, stored: Stored, status: Task["status"]): void {
    stored.task.status = status;
    stored.task.lastUpdatedAt = new Date().toISOString();
    this.expire(taskId, stored);
  }

  /** Forgets a task its ttl from now; the timer never keeps the process alive. */
  private expire(taskId: string, stored: Stored): void {
    clearTimeout(stored.timer);
    if (stored.task.ttl === null) return;
    stored.timer = setTimeout(() => this.drop(taskId), stored.task.ttl);
    stored.timer.unref();
  }

  private drop(taskId: string): void {
    clearTimeout(this.tasks.get(taskId)?.timer);
    this.tasks.delete(taskId);
  }
}
