/**
 * The built-in embedder as an ONNX model (IR 8, opset 13), written without a protobuf library:
 *
 *   ids [N, L] int64, weights [N, L] float
 *   embedding = LpNormalization(ReduceSum(Gather(table, ids) * Unsqueeze(weights, 2), axis 1))  → [N, d]
 *
 * an EmbeddingBag with per-term weights, the form torch exports and onnxruntime-node runs. Field
 * numbers follow onnx/onnx.proto3.
 */
const FLOAT = 1;
const INT64 = 7;
const ATTRIBUTE_INT = 2;

class Proto {
  private readonly parts: Buffer[] = [];

  varint(field: number, value: number): this {
    this.key(field, 0);
    this.raw(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.raw(value.length);
    this.parts.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    return this;
  }

  message(field: number, build: (inner: Proto) => void): this {
    const inner = new Proto();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  packed(field: number, values: readonly number[]): this {
    const inner = new Proto();
    for (const value of values) inner.raw(value);
    return this.bytes(field, inner.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }

  private key(field: number, wire: number): void {
    this.raw(field * 8 + wire);
  }

  private raw(value: number): void {
    const out: number[] = [];
    let v = BigInt(value);
    if (v < 0n) v += 1n << 64n;
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) byte |= 0x80;
      out.push(byte);
    } while (v > 0n);
    this.parts.push(Buffer.from(out));
  }
}

function node(g: Proto, op: string, inputs: string[], output: string, ints: Record<string, number> = {}): void {
  g.message(1, (n) => {
    for (const input of inputs) n.string(1, input);
    n.string(2, output).string(3, `${op.toLowerCase()}_${output}`).string(4, op);
    for (const [name, value] of Object.entries(ints)) n.message(5, (a) => a.string(1, name).varint(3, value).varint(20, ATTRIBUTE_INT));
  });
}

function valueInfo(g: Proto, field: number, name: string, type: number, dims: Array<string | number>): void {
  g.message(field, (v) =>
    v.string(1, name).message(2, (t) =>
      t.message(1, (tensor) =>
        tensor.varint(1, type).message(2, (shape) => {
          for (const dim of dims) shape.message(1, (d) => (typeof dim === 'number' ? d.varint(1, dim) : d.string(2, dim)));
        }),
      ),
    ),
  );
}

/** The model file for an embedding table of `rows` × `dimensions` (row 0 = padding). */
export function embeddingBagModel(table: Float32Array, rows: number, dimensions: number): Uint8Array {
  const model = new Proto();
  model.varint(1, 8).string(2, 'anvil-knowledge').string(3, '1');
  model.message(7, (g) => {
    node(g, 'Gather', ['table', 'ids'], 'gathered');
    node(g, 'Unsqueeze', ['weights', 'axis2'], 'weights3');
    node(g, 'Mul', ['gathered', 'weights3'], 'weighted');
    node(g, 'ReduceSum', ['weighted', 'axis1'], 'summed', { keepdims: 0 });
    node(g, 'LpNormalization', ['summed'], 'embedding', { axis: 1, p: 2 });
    g.string(2, 'anvil_embedding_bag');
    g.message(5, (t) => t.packed(1, [rows, dimensions]).varint(2, FLOAT).string(8, 'table').bytes(9, new Uint8Array(table.buffer, table.byteOffset, rows * dimensions * 4)));
    g.message(5, (t) => t.packed(1, [1]).varint(2, INT64).string(8, 'axis1').bytes(9, new Uint8Array(new BigInt64Array([1n]).buffer)));
    g.message(5, (t) => t.packed(1, [1]).varint(2, INT64).string(8, 'axis2').bytes(9, new Uint8Array(new BigInt64Array([2n]).buffer)));
    valueInfo(g, 11, 'ids', INT64, ['N', 'L']);
    valueInfo(g, 11, 'weights', FLOAT, ['N', 'L']);
    valueInfo(g, 12, 'embedding', FLOAT, ['N', dimensions]);
  });
  model.message(8, (o) => o.string(1, '').varint(2, 13));
  return model.finish();
}
