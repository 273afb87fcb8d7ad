// Replaces the image loader's decodeImageFrame (see build.mjs: rawDecodeOnMainThread).
// Uncompressed little-endian frames (what our DICOMweb serves) need no codec: the
// "decode" is a typed-array view plus the modality rescale, which takes about a
// millisecond on the main thread, less than a round-trip to a decode worker (and far
// less than starting one: the worker is then never started for such a series).
// Everything else goes to the worker as before.
//
// Prefetch decodes of uncompressed frames also go to the worker while the main
// thread is busy getting the first image on screen (setPrefetchOnMainThread(false),
// the viewer's state until its first render and its mouse tools are there): on 2
// cores the worker then decodes
// the frames that have already arrived in parallel. After that they are decoded
// here (no copy to and from the worker: faster for long series).
import { getWebWorkerManager } from '@cornerstonejs/core';
import workerDecode from '../node_modules/@cornerstonejs/dicom-image-loader/dist/esm/imageLoader/decodeImageFrame.js';
import decodeLittleEndian from '../node_modules/@cornerstonejs/dicom-image-loader/dist/esm/shared/decoders/decodeLittleEndian.js';
// On the main thread the worker entry only defines functions (it calls expose() inside a worker only).
import { postProcessDecodedPixels } from '../node_modules/@cornerstonejs/dicom-image-loader/dist/esm/decodeImageFrameWorker.js';

const UNCOMPRESSED_LE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);

let maxWorkers = 1;
let prefetchOnMainThread = true;

export function setPrefetchOnMainThread(on) {
  prefetchOnMainThread = Boolean(on);
}
let workersRegistered = false;

/** Number of decode workers to start once one is needed (the image loader's maxWebWorkers). */
export function configureWorkers(n) {
  maxWorkers = Math.max(1, Math.floor(Number(n)) || 1);
}

/** Start the decode worker(s) (once; the viewer does it when the core initialises). */
// `started`: workers the loader already started (same script), used first.
export function ensureWorkers(started = []) {
  if (workersRegistered) {
    for (const w of started) w.terminate();
    return;
  }
  workersRegistered = true;
  getWebWorkerManager().registerWorker(
    'dicomImageLoader',
    () => started.shift() || new Worker(new URL('./decodeImageFrameWorker.js', import.meta.url), { type: 'module' }),
    { maxWorkerInstances: maxWorkers },
  );
  for (const w of started.splice(0)) w.terminate(); // more than asked for
}

export default function decodeImageFrame(imageFrame, transferSyntax, pixelData, canvas, options = {}, decodeConfig) {
  const bits = imageFrame.bitsAllocated;
  const toWorker = options.requestType === 'prefetch' && !prefetchOnMainThread;
  if (toWorker || !UNCOMPRESSED_LE.has(transferSyntax) || !(bits === 8 || bits === 16) || imageFrame.samplesPerPixel > 1) {
    ensureWorkers();
    return workerDecode(imageFrame, transferSyntax, pixelData, canvas, options, decodeConfig);
  }
  const start = Date.now();
  // The worker got a structured-clone copy; here the bytes are ours alone
  // (the viewer's fetch buffer, dropped after decoding), so no copy is needed.
  return decodeLittleEndian(imageFrame, pixelData).then((frame) => {
    const opts = { ...options };
    delete opts.loader;
    delete opts.streamingData;
    return postProcessDecodedPixels(frame, opts, start, decodeConfig);
  });
}
