/**
 * Writes `block-classifier.onnx`: a two-layer network whose weights are fixed by construction, so its
 * outputs can be checked by hand. It is encoded here directly as ONNX protobuf, with no model hub and no
 * Python toolchain involved.
 *
 *   input   float32 [N, 512]
 *   hidden  = Relu(input · W1)       W1 [512, 16]: unit j is the mean of inputs 32j .. 32j+31
 *   logits  = hidden · W2 + b2       W2 [16, 4]:  class k is the mean of hidden units 4k .. 4k+3; b2 = 0
 *   probabilities = Softmax(logits)  float32 [N, 4]
 *   label         = ArgMax(logits)   int64   [N]
 *
 * Run with `npx tsx images/models/build-model.ts`; the output is committed and byte-for-byte reproducible.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export const INPUT_SIZE = 512;
export const HIDDEN_SIZE = 16;
export const CLASSES = 4;

// --- a minimal protobuf writer: only the wire types ONNX needs (varint and length-delimited) ---
type Field = Buffer;
function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const key = (field: number, wire: 0 | 2) => varint((field << 3) | wire);
const int = (field: number, n: number | bigint): Field => Buffer.concat([key(field, 0), varint(n)]);
const bytes = (field: number, b: Buffer): Field => Buffer.concat([key(field, 2), varint(b.length), b]);
const str = (field: number, s: string): Field => bytes(field, Buffer.from(s, "utf8"));
const msg = (field: number, ...parts: Field[]): Field => bytes(field, Buffer.concat(parts));

// --- ONNX messages (field numbers from onnx.proto) ---
const FLOAT = 1;
const INT64 = 7;
const ATTR_INT = 2;

function tensorType(field: number, elemType: number, dims: Array<number | string>): Field {
  const shape = dims.map((d) => msg(1, typeof d === "number" ? int(1, d) : str(2, d)));
  return msg(field, msg(1, int(1, elemType), msg(2, ...shape)));
}
const valueInfo = (field: number, name: string, elemType: number, dims: Array<number | string>) =>
  msg(field, str(1, name), tensorType(2, elemType, dims));

function floatTensor(name: string, dims: number[], values: Float32Array): Field {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return msg(5, ...dims.map((d) => int(1, d)), int(2, FLOAT), str(8, name), bytes(9, raw));
}

function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, number> = {}): Field {
  const attrFields = Object.entries(attrs).map(([name, v]) => msg(5, str(1, name), int(3, v), int(20, ATTR_INT)));
  return msg(1, ...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, `${op}_${outputs[0]}`), str(4, op), ...attrFields);
}

export function weights(): { w1: Float32Array; w2: Float32Array; b2: Float32Array } {
  const block = INPUT_SIZE / HIDDEN_SIZE;
  const group = HIDDEN_SIZE / CLASSES;
  const w1 = new Float32Array(INPUT_SIZE * HIDDEN_SIZE);
  for (let i = 0; i < INPUT_SIZE; i++) w1[i * HIDDEN_SIZE + Math.floor(i / block)] = 1 / block;
  const w2 = new Float32Array(HIDDEN_SIZE * CLASSES);
  for (let j = 0; j < HIDDEN_SIZE; j++) w2[j * CLASSES + Math.floor(j / group)] = 1 / group;
  return { w1, w2, b2: new Float32Array(CLASSES) };
}

export function buildModel(): Buffer {
  const { w1, w2, b2 } = weights();
  const graph = msg(
    7,
    node("MatMul", ["input", "W1"], ["hidden_linear"]),
    node("Relu", ["hidden_linear"], ["hidden"]),
    node("MatMul", ["hidden", "W2"], ["logits_linear"]),
    node("Add", ["logits_linear", "B2"], ["logits"]),
    node("Softmax", ["logits"], ["probabilities"], { axis: -1 }),
    node("ArgMax", ["logits"], ["label"], { axis: 1, keepdims: 0 }),
    str(2, "block_classifier"),
    floatTensor("W1", [INPUT_SIZE, HIDDEN_SIZE], w1),
    floatTensor("W2", [HIDDEN_SIZE, CLASSES], w2),
    floatTensor("B2", [CLASSES], b2),
    valueInfo(11, "input", FLOAT, ["N", INPUT_SIZE]),
    valueInfo(12, "probabilities", FLOAT, ["N", CLASSES]),
    valueInfo(12, "label", INT64, ["N"]),
  );
  return Buffer.concat([
    int(1, 8), // IR version 8 (ONNX 1.13+)
    str(2, "pitchey-build-model"),
    str(3, "1"),
    graph,
    msg(8, str(1, ""), int(2, 13)), // default domain, opset 13
  ]);
}

if (require.main === module) {
  const out = join(__dirname, "block-classifier.onnx");
  writeFileSync(out, buildModel());
  console.log(`wrote ${out}`);
}
