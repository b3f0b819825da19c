// Runs an ONNX model in ONNX Runtime (the npm package onnxruntime-node, pinned in
// package.json beside this file) and writes each of its outputs to a .npy file.
//
//   node run_onnx.js MODEL.onnx IMAGES.npy OUT_PREFIX
//
// IMAGES.npy holds float32 inputs (N, ...) in C order; the model runs on them in batches of
// 250, and output NAME goes to OUT_PREFIX + NAME + ".npy", float32, (N, ...). It prints
// "name value" lines for ch12_beyond_the_book: the runtime's version and each output's shape.
// Bad input (a missing or malformed file, a model ONNX Runtime refuses) ends with a message
// on standard error and exit status 1.
'use strict';

const fs = require('fs');
const ort = require('onnxruntime-node');

// Reads a little-endian float32 .npy file (format 1.0 or 2.0): { shape, data }.
function readNpy(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') {
    throw new Error(`${file}: not a .npy file (no \\x93NUMPY magic)`);
  }
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLength);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${file}: expected float32 ('<f4') in C order, found the header ${header.trim()}`);
  }
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!shapeText) {
    throw new Error(`${file}: no shape in the header ${header.trim()}`);
  }
  const shape = shapeText[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  if (bytes.length - offset !== 4 * count) {
    throw new Error(`${file}: the header promises ${count} floats, the file holds ${(bytes.length - offset) / 4}`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; ++i) {
    data[i] = bytes.readFloatLE(offset + 4 * i);
  }
  return { shape, data };
}

// Writes a float32 .npy file (format 1.0): the header padded with spaces to a multiple of 64.
function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; ++i) {
    body.writeFloatLE(data[i], 4 * i);
  }
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]));
}

async function main(argv) {
  if (argv.length !== 3) {
    throw new Error('usage: node run_onnx.js MODEL.onnx IMAGES.npy OUT_PREFIX');
  }
  const [model, imagesFile, prefix] = argv;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 2,
    graphOptimizationLevel: 'all',
  });
  const images = readNpy(imagesFile);
  const n = images.shape[0];
  const per = images.data.length / n;
  const outputs = {};
  for (let first = 0; first < n; first += 250) {
    const count = Math.min(250, n - first);
    const batch = new ort.Tensor('float32', images.data.subarray(first * per, (first + count) * per),
                                 [count, ...images.shape.slice(1)]);
    const results = await session.run({ [session.inputNames[0]]: batch });
    for (const name of session.outputNames) {
      const t = results[name];
      if (!outputs[name]) {
        outputs[name] = { shape: [n, ...t.dims.slice(1)], parts: [] };
      }
      outputs[name].parts.push(t.data);
    }
  }
  console.log('onnxruntime_version', require('onnxruntime-node/package.json').version);
  for (const [name, { shape, parts }] of Object.entries(outputs)) {
    const data = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    writeNpy(`${prefix}${name}.npy`, shape, data);
    console.log(`output_${name}`, shape.join('x'));
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(`run_onnx.js: ${e.message}`);
  process.exit(1);
});
