import { Writable } from 'node:stream';

/** A stdout/stderr stand-in for driving the CLI in-process: keeps what was written as text. */
export class Collector extends Writable {
  text = '';
  constructor(readonly isTTY = false) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}
