/**
 * A small binary container for checkpoints: `ANVILTF1`, a uint32 header length, a JSON header, then
 * the tensors' raw little-endian bytes (4-byte aligned) in header order. Written atomically.
 */
import { closeSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

const MAGIC = 'ANVILTF1';
type TensorArray = Float32Array | Int32Array;
interface TensorEntry {
  name: string;
  kind: 'f32' | 'i32';
  length: number;
}

export function writeTensorFile(file: string, header: Record<string, unknown>, tensors: Record<string, TensorArray>): number {
  const entries: TensorEntry[] = Object.entries(tensors).map(([name, array]) => ({ name, kind: array instanceof Float32Array ? 'f32' : 'i32', length: array.length }));
  let json = Buffer.from(JSON.stringify({ ...header, tensors: entries }), 'utf8');
  const pad = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const prefix = Buffer.alloc(MAGIC.length + 4);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, MAGIC.length);
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  let size = 0;
  try {
    size += writeSync(fd, prefix);
    size += writeSync(fd, json);
    for (const array of Object.values(tensors)) {
      size += writeSync(fd, new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    }
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  return size;
}

export function readTensorFile(file: string): { header: Record<string, unknown>; tensors: Map<string, TensorArray> } {
  const bytes = readFileSync(file);
  if (bytes.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) throw new Error(`${file} is not an Anvil checkpoint file`);
  const length = bytes.readUInt32LE(MAGIC.length);
  let at = MAGIC.length + 4;
  const header = JSON.parse(bytes.subarray(at, at + length).toString('utf8')) as Record<string, unknown> & { tensors?: TensorEntry[] };
  at += length;
  const tensors = new Map<string, TensorArray>();
  for (const entry of header.tensors ?? []) {
    const byteLength = entry.length * 4;
    if (at + byteLength > bytes.length) throw new Error(`${file} is truncated (tensor ${entry.name})`);
    const copy = new ArrayBuffer(byteLength);
    new Uint8Array(copy).set(bytes.subarray(at, at + byteLength));
    tensors.set(entry.name, entry.kind === 'f32' ? new Float32Array(copy) : new Int32Array(copy));
    at += byteLength;
  }
  return { header, tensors };
}
