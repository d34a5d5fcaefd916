/**
 * A CPU profile of the Worker's isolate (the Worker, its Durable Objects and its queue consumers share it
 * under Miniflare) through workerd's inspector: where a bench phase's JavaScript time goes, by function.
 * Enabled by starting the bench stack with an inspector port (`BENCH_PROFILE=1`).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  fn: string;
  ms: number;
  share: number;
}

/** What a profile says: self and inclusive time per function, and native calls' self time by their JS caller. */
export interface ProfileTimes {
  self: FunctionTime[];
  inclusive: FunctionTime[];
  /** Self time of native functions (`exec`: Durable Object SQLite) charged to the JS function that called them. */
  nativeByCaller: FunctionTime[];
  totalMs: number;
}

/** A connection to one inspector target that can start and stop the V8 sampling profiler. */
export interface CpuProfiler {
  start(): Promise<void>;
  /**
   * Stops and returns, per function, its self time and its inclusive time (itself and what it called), in ms
   * and as a share of the samples, each list biggest first.
   */
  stop(): Promise<ProfileTimes>;
  close(): void;
}

/** Connects to the first target of workerd's inspector on `port` whose URL names the Worker. */
export async function connectProfiler(port: number, worker = "grid321"): Promise<CpuProfiler> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Array<{
    id: string;
    title?: string;
    webSocketDebuggerUrl?: string;
  }>;
  const target =
    targets.find((t) => t.webSocketDebuggerUrl?.includes(worker) || t.id.includes(worker)) ?? targets[0];
  if (!target?.webSocketDebuggerUrl) throw new Error(`no inspector target on port ${port}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error("inspector connection failed")), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (event) => {
    const msg = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 500 });
  return {
    start: async () => {
      await send("Profiler.start");
    },
    stop: async () => {
      const { profile } = (await send("Profiler.stop")) as { profile: Profile };
      return times(profile);
    },
    close: () => ws.close(),
  };
}

/** Self and inclusive time per function (name and bundle line), from a V8 CPU profile. */
function times(profile: Profile): ProfileTimes {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nameOf = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.split("/").at(-1)}:${lineNumber + 1}` : "";
    return `${functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const nativeByCaller = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((nodeId, i) => {
    const node = byNode.get(nodeId);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!node) return;
    total += dt;
    self.set(nameOf(node), (self.get(nameOf(node)) ?? 0) + dt);
    if (!node.callFrame.url && /^[a-zA-Z]/.test(node.callFrame.functionName)) {
      let caller = parent.get(nodeId);
      while (caller !== undefined && !byNode.get(caller)?.callFrame.url) caller = parent.get(caller);
      const by = `${node.callFrame.functionName} ← ${caller === undefined ? "?" : nameOf(byNode.get(caller)!)}`;
      nativeByCaller.set(by, (nativeByCaller.get(by) ?? 0) + dt);
    }
    const onStack = new Set<string>();
    for (let id: number | undefined = nodeId; id !== undefined; id = parent.get(id)) {
      const n = byNode.get(id);
      if (n) onStack.add(nameOf(n));
    }
    for (const name of onStack) inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
  });
  const list = (m: Map<string, number>) =>
    [...m].map(([fn, ms]) => ({ fn, ms, share: total ? ms / total : 0 })).sort((a, b) => b.ms - a.ms);
  return {
    self: list(self),
    inclusive: list(inclusive),
    nativeByCaller: list(nativeByCaller),
    totalMs: total,
  };
}
