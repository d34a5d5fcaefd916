import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC
const ANSI = /\u001b\[[0-9;]*m/g;
const BINDINGS_HEADING = "Your Worker has access to the following bindings:";
const TELEMETRY_BANNER = "Cloudflare collects anonymous telemetry";

/**
 * Copies `wrangler dev` output line by line, leaving out what is noise on a healthy local start: the
 * bindings table printed again each time the dev registry changes (once right after start-up, when this
 * Worker registers its own queue consumers), the "Connection status updated" line that announces it, and
 * the telemetry banner (untrue here: `npm run dev` runs wrangler with `WRANGLER_SEND_METRICS=false`).
 * Everything else, warnings and errors included, passes through unchanged.
 *
 * @example
 *   const filter = new WranglerOutput();
 *   filter.pipe(child.stdout, process.stdout);
 *   filter.pipe(child.stderr, process.stderr);
 */
export class WranglerOutput {
  #tablesSeen = 0;
  #skippingTable = false;

  /** Whether `line` (one line of wrangler output, without its newline) should be shown. */
  keep(line: string): boolean {
    const plain = line.replace(ANSI, "").trim();
    if (this.#skippingTable) {
      if (plain === "") this.#skippingTable = false;
      return false;
    }
    if (plain === BINDINGS_HEADING) {
      this.#tablesSeen += 1;
      this.#skippingTable = this.#tablesSeen > 1;
      return !this.#skippingTable;
    }
    return !plain.endsWith("Connection status updated") && !plain.startsWith(TELEMETRY_BANNER);
  }

  /** Copies the kept lines of `from` to `to`. */
  pipe(from: Readable, to: Writable): void {
    createInterface({ input: from, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
      if (this.keep(line)) to.write(`${line}\n`);
    });
  }
}
