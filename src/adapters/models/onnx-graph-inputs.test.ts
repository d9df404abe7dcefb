import { describe, expect, it } from 'vitest';
import { dropInitializerInputs } from './onnx-graph-inputs.js';

// A tiny protobuf writer for building ONNX-shaped messages by hand.
const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
};
const len = (field: number, payload: number[]): number[] => [...varint(field * 8 + 2), ...varint(payload.length), ...payload];
const str = (field: number, s: string): number[] => len(field, [...new TextEncoder().encode(s)]);
const int = (field: number, n: number): number[] => [...varint(field * 8), ...varint(n)];
const fixed32 = (field: number): number[] => [...varint(field * 8 + 5), 0, 0, 128, 63];

const tensor = (name: string, bytes: number): number[] => [...int(1, 4), ...int(2, 1), ...str(8, name), ...len(9, new Array<number>(bytes).fill(7))];
const valueInfo = (name: string): number[] => [...str(1, name), ...len(2, [...len(1, [...int(1, 1)])])];
const node = [...str(1, 'x'), ...str(1, 'w'), ...str(2, 'y'), ...str(4, 'Mul'), ...fixed32(20)];

function model(inputs: string[], extra: number[] = []): Uint8Array {
  const graph = [
    ...len(1, node),
    ...str(2, 'g'),
    ...len(5, tensor('w', 64)),
    ...inputs.flatMap((n) => len(11, valueInfo(n))),
    ...len(12, valueInfo('y')),
    ...extra,
  ];
  return Uint8Array.from([...int(1, 7), ...str(2, 'exporter'), ...len(7, graph), ...len(8, [...str(1, ''), ...int(2, 11)])]);
}

describe('dropInitializerInputs', () => {
  it('removes graph inputs that are initializers and leaves every other byte as it was', () => {
    const before = model(['x', 'w']);
    const { bytes, removed } = dropInitializerInputs(before);
    expect(removed).toBe(1);
    // The graph was over 127 bytes and is now under: its length varint shrank from two bytes to one.
    expect(bytes).toEqual(model(['x']));
    expect(model(['x', 'w']).length - bytes.length).toBe(len(11, valueInfo('w')).length + 1);
  });

  it('keeps the order of the remaining fields, inputs listed before and after the weight included', () => {
    const { bytes, removed } = dropInitializerInputs(model(['w', 'x', 'w']));
    expect(removed).toBe(2);
    expect(bytes).toEqual(model(['x']));
  });

  it('returns the very same bytes when there is nothing to remove', () => {
    const clean = model(['x']);
    const result = dropInitializerInputs(clean);
    expect(result.removed).toBe(0);
    expect(result.bytes).toBe(clean);
    const noGraph = Uint8Array.from([...int(1, 7), ...str(2, 'exporter')]);
    expect(dropInitializerInputs(noGraph).bytes).toBe(noGraph);
  });

  it('refuses bytes that are not a protobuf message', () => {
    expect(() => dropInitializerInputs(Uint8Array.from([0x3a, 0xff, 0xff, 0x03, 1, 2]))).toThrow(/runs past its message/);
    expect(() => dropInitializerInputs(Uint8Array.from([0x0b, 1]))).toThrow(/wire type 3/);
    expect(() => dropInitializerInputs(Uint8Array.from([0x08, 0x80]))).toThrow(/truncated varint/);
  });
});
