/**
 * Startup check of ARGUS_EXECUTION_PROVIDER: a session with the provider is created on a one-node model, so a
 * missing CUDA build (or driver, or GPU) stops the process with the fix in the message instead of failing, or
 * silently running on the CPU, at the first request.
 */

/** Protobuf field header: field number and wire type. */
function key(field: number, wire: 0 | 2): number[] {
  return varint((field << 3) | wire);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function bytesField(field: number, body: number[] | string): number[] {
  const b = typeof body === 'string' ? [...Buffer.from(body, 'utf8')] : body;
  return [...key(field, 2), ...varint(b.length), ...b];
}

function intField(field: number, n: number): number[] {
  return [...key(field, 0), ...varint(n)];
}

/** A float tensor of shape [1] named `name` (ValueInfoProto). */
function valueInfo(name: string): number[] {
  const shape = bytesField(2, bytesField(1, intField(1, 1)));
  const tensorType = bytesField(1, [...intField(1, 1), ...shape]);
  return [...bytesField(1, name), ...bytesField(2, tensorType)];
}

/** The smallest ONNX model there is: y = Identity(x), opset 13, encoded by hand so no file ships for it. */
export function identityModel(): Uint8Array {
  const node = [...bytesField(1, 'x'), ...bytesField(2, 'y'), ...bytesField(4, 'Identity')];
  const graph = [...bytesField(1, node), ...bytesField(2, 'probe'), ...bytesField(11, valueInfo('x')), ...bytesField(12, valueInfo('y'))];
  const opset = [...bytesField(1, ''), ...intField(2, 13)];
  return Uint8Array.from([...intField(1, 8), ...bytesField(7, graph), ...bytesField(8, opset)]);
}

/** The message for a provider that cannot be used, with the fix. */
export function providerFailure(provider: string, reason: string): string {
  return (
    `invalid configuration: ARGUS_EXECUTION_PROVIDER=${provider} but onnxruntime cannot use it (${reason}). ` +
    'Install onnxruntime-node with its CUDA 12 binaries (`npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12`), ' +
    'with an NVIDIA driver, CUDA 12 and cuDNN 9 libraries on the library path, or set ARGUS_EXECUTION_PROVIDER=cpu'
  );
}

/**
 * Throws unless onnxruntime can create a session with `provider`. The CPU provider is always there and is not
 * checked, so a CPU-only process does not load onnxruntime on its main thread for this.
 */
export async function checkExecutionProvider(provider: 'cpu' | 'cuda'): Promise<void> {
  if (provider === 'cpu') return;
  const ort = await import('onnxruntime-node');
  let session: import('onnxruntime-node').InferenceSession;
  try {
    // No CPU fallback here: the point is whether the provider itself loads.
    session = await ort.InferenceSession.create(identityModel(), { executionProviders: [provider], logSeverityLevel: 4 });
  } catch (err) {
    throw new Error(providerFailure(provider, err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err)), { cause: err });
  }
  await session.release();
}
