// Keep the end of a command's output and drop the rest, so a chatty command (a package manager,
// `journalctl`) cannot fill our memory. The end is what explains a failure.

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

/** The last `count` lines of `text` (a trailing newline does not count as an empty line). */
export function lastLines(text: string, count: number): string {
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.slice(-count).join('\n');
}
