import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../../src/platform/http/pagination";

describe("cursors", () => {
  it("round-trip keyset positions holding any text, Chinese included", () => {
    const position = ["张岭社区第1网格", 42, "a/b%_"];
    expect(decodeCursor(encodeCursor(position), 3)).toEqual(position);
  });

  it("refuse a cursor that is not valid UTF-8 JSON with a 400 problem", () => {
    const latin1 = btoa(String.fromCharCode(0x5b, 0x22, 0xff, 0x22, 0x5d)).replace(/=+$/, "");
    expect(() => decodeCursor(latin1, 1)).toThrowError(expect.objectContaining({ status: 400 }));
  });
});
