import { describe, expect, it } from "vitest";
import { Semaphore } from "./util";

describe("Semaphore", () => {
  it("admits up to its limit, hands slots on in order, and drops aborted waiters", async () => {
    const sem = new Semaphore(2);
    const never = new AbortController().signal;
    const a = await sem.acquire(never);
    const b = await sem.acquire(never);
    const order: string[] = [];
    const abandoned = new AbortController();
    const c = sem.acquire(abandoned.signal).then(() => order.push("c"), () => order.push("c aborted"));
    const d = sem.acquire(never).then((release) => (order.push("d"), release));
    abandoned.abort(new Error("gone"));
    await c;
    a();
    a(); // a second release of the same slot is ignored
    const releaseD = await d;
    expect(order).toEqual(["c aborted", "d"]);
    // b and d hold the two slots: a new waiter must wait for one of them.
    let e = false;
    const pending = sem.acquire(never).then((r) => ((e = true), r));
    await new Promise((r) => setTimeout(r, 20));
    expect(e).toBe(false);
    b();
    (await pending)();
    releaseD();
    expect(e).toBe(true);
  });
});
