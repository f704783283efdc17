// Keep the end of a command's output and drop the rest, so a chatty command (a package manager,
// `journalctl`) cannot fill our memory. The end is what explains a failure.

import { boundedTail, OUTPUT_BOUNDS } from '../run/remote.js';

export const DEFAULT_OUTPUT_CAP = 1024 * 1024;

export class OutputTail {
  private chunks: Buffer[] = [];
  private kept = 0;
  /** Bytes dropped from the front because the cap was reached. */
  dropped = 0;

  constructor(private readonly cap: number = DEFAULT_OUTPUT_CAP) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept > this.cap) {
      const first = this.chunks[0]!;
      const excess = this.kept - this.cap;
      if (first.length <= excess) {
        this.chunks.shift();
        this.kept -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.kept -= excess;
        this.dropped += excess;
      }
    }
  }

  toString(): string {
    let bytes = Buffer.concat(this.chunks);
    // A cut may have landed inside a UTF-8 sequence: skip its orphaned continuation bytes.
    if (this.dropped > 0) {
      let start = 0;
      while (start < bytes.length && start < 3 && (bytes[start]! & 0xc0) === 0x80) start++;
      bytes = bytes.subarray(start);
    }
    return bytes.toString('utf8');
  }
}

/**
 * The last `count` lines of `text` (a trailing newline does not count as an empty line), each
 * cut to OUTPUT_BOUNDS.lineBytes and all of them to OUTPUT_BOUNDS.bytes: a command that prints
 * one 10 MB line leaves its start, not the 10 MB, in the error.
 */
export function lastLines(text: string, count: number, bytes: number = OUTPUT_BOUNDS.bytes): string {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  return boundedTail(body, { lines: count, bytes });
}
