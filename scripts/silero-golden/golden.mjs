// Golden speech probabilities for stages/silero's tests, by the reference
// implementation: ONNX Runtime (onnxruntime-node) runs silero_vad_v6.onnx
// over each fixtures/speech-synth/*.wav at the file's own rate (16 kHz files
// on the 16 kHz branch, 8 kHz files on the 8 kHz one), chunk by chunk
// (512 / 256 samples, whole chunks only) with the previous 64 / 32 samples
// of context in front (zeros at the start) and the state carried, exactly
// as silero.Stream does. Writes fixtures/vad/<name>.json and prints
// ONNX Runtime's time per 16 kHz chunk on one thread.
//
// Usage: node golden.mjs MODEL FIXTURES_DIR OUT_DIR
// (scripts/make-vad-golden.sh runs it.)
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import ort from 'onnxruntime-node';

const require = createRequire(import.meta.url);
const ortVersion = require('onnxruntime-node/package.json').version;

const [modelPath, fixturesDir, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node golden.mjs MODEL FIXTURES_DIR OUT_DIR');
  process.exit(2);
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

// readWav returns the samples (int16 / 32768) and rate of a 16-bit mono PCM WAV.
function readWav(path) {
  const b = readFileSync(path);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${path}: not a WAV file`);
  }
  let rate = 0;
  for (let off = 12; off + 8 <= b.length; ) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      const format = b.readUInt16LE(body);
      const channels = b.readUInt16LE(body + 2);
      const bits = b.readUInt16LE(body + 14);
      if (format !== 1 || channels !== 1 || bits !== 16) {
        throw new Error(`${path}: want 16-bit mono PCM, got format ${format}, ${channels} channels, ${bits} bits`);
      }
      rate = b.readUInt32LE(body + 4);
    } else if (id === 'data') {
      if (!rate) throw new Error(`${path}: data before fmt`);
      const n = Math.floor(Math.min(size, b.length - body) / 2);
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = b.readInt16LE(body + 2 * i) / 32768;
      return { samples: x, rate, sha: sha256(b) };
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

const geometry = { 16000: { chunk: 512, ctx: 64 }, 8000: { chunk: 256, ctx: 32 } };

const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

// run feeds every whole chunk of x through the model, returning the
// probabilities and the seconds spent in session.run.
async function run(x, rate) {
  const { chunk, ctx } = geometry[rate];
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(rate)]), []);
  let state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  const input = new Float32Array(ctx + chunk); // context (zeros at first), chunk
  const probs = [];
  let seconds = 0;
  for (let off = 0; off + chunk <= x.length; off += chunk) {
    input.copyWithin(0, chunk, chunk + ctx); // last chunk's tail becomes the context
    input.set(x.subarray(off, off + chunk), ctx);
    const feeds = {
      input: new ort.Tensor('float32', input.slice(), [1, ctx + chunk]),
      state,
      sr,
    };
    const t0 = process.hrtime.bigint();
    const out = await session.run(feeds);
    seconds += Number(process.hrtime.bigint() - t0) / 1e9;
    probs.push(out.output.data[0]);
    state = out.stateN;
  }
  return { probs, seconds };
}

mkdirSync(outDir, { recursive: true });
const modelSha = sha256(readFileSync(modelPath));
const wavs = readdirSync(fixturesDir).filter((f) => f.endsWith('.wav')).sort();
const sixteen = [];
for (const f of wavs) {
  const { samples, rate, sha } = readWav(join(fixturesDir, f));
  if (!geometry[rate]) {
    console.error(`${f}: ${rate} Hz, skipped (the model runs at 8000 or 16000 Hz)`);
    continue;
  }
  if (rate === 16000) sixteen.push(samples);
  const { probs } = await run(samples, rate);
  const name = basename(f, '.wav');
  const lines = [];
  for (let i = 0; i < probs.length; i += 10) {
    lines.push('    ' + probs.slice(i, i + 10).map((p) => p.toFixed(6)).join(', '));
  }
  const json = [
    '{',
    `  "wav": ${JSON.stringify(f)},`,
    `  "wav_sha256": "${sha}",`,
    `  "model_sha256": "${modelSha}",`,
    `  "onnxruntime_node": "${ortVersion}",`,
    `  "sample_rate_hz": ${rate},`,
    `  "chunk_samples": ${geometry[rate].chunk},`,
    '  "probabilities": [',
    lines.join(',\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
  writeFileSync(join(outDir, `${name}.json`), json);
  const speech = probs.filter((p) => p > 0.65).length;
  console.log(`${name}: ${probs.length} chunks, ${speech} above 0.65`);
}

// Timing: every 16 kHz fixture again and again for about 3 s, after a warm-up.
if (sixteen.length) {
  await run(sixteen[0], 16000);
  let chunks = 0;
  let seconds = 0;
  while (seconds < 3) {
    for (const x of sixteen) {
      const r = await run(x, 16000);
      chunks += r.probs.length;
      seconds += r.seconds;
    }
  }
  console.log(
    `onnxruntime-node ${ortVersion}: ${((seconds / chunks) * 1e6).toFixed(1)} µs per 16 kHz chunk ` +
      `(session.run, one thread, ${chunks} chunks, Node ${process.version})`,
  );
}
