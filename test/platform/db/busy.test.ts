import { LibsqlError } from "@libsql/client/web";
import { describe, expect, it } from "vitest";
import { busyRetried } from "../../../src/platform/db/client";

/** A statement that sqld refuses with `code` the first `refusals` times, then answers `answer`. */
function refusedThen(refusals: number, code: string, answer = "ok") {
  let calls = 0;
  const run = async () => {
    calls++;
    if (calls <= refusals) throw new LibsqlError("database is locked", code);
    return answer;
  };
  return { run, calls: () => calls };
}

describe("busyRetried", () => {
  it("sends a statement again while sqld answers SQLITE_BUSY, and returns its answer", async () => {
    const statement = refusedThen(3, "SQLITE_BUSY");
    await expect(busyRetried(statement.run)).resolves.toBe("ok");
    expect(statement.calls()).toBe(4);
  });

  it("gives up after eight attempts and passes the busy error on", async () => {
    const statement = refusedThen(100, "SQLITE_BUSY");
    await expect(busyRetried(statement.run)).rejects.toMatchObject({ code: "SQLITE_BUSY" });
    expect(statement.calls()).toBe(8);
  });

  it("never repeats a statement that failed for another reason", async () => {
    const constraint = refusedThen(1, "SQLITE_CONSTRAINT");
    await expect(busyRetried(constraint.run)).rejects.toMatchObject({ code: "SQLITE_CONSTRAINT" });
    expect(constraint.calls()).toBe(1);
    let unanswered = 0;
    await expect(
      busyRetried(async () => {
        unanswered++;
        throw new TypeError("Network connection lost.");
      }),
    ).rejects.toThrow(TypeError);
    expect(unanswered).toBe(1);
  });
});
