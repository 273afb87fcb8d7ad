// Build the reader-study viewer into Django static files.
//
//   cd frontend && npm ci && node build.mjs [outDir]
//
// Default outDir: ../readerstudy/reading/static/reading/viewer/
// Output (everything in outDir is replaced):
//   viewer.js                 small IIFE loader (~25 KB), load with a plain
//                             <script src> tag; sets window.ReaderstudyViewer at
//                             once, starts importing the core and, on mount(),
//                             fetches the series metadata and frames itself
//   viewer-core.<hash>.js     ES module: Cornerstone3D rendering + image loader
//   viewer-chunk.<hash>.js    ES chunks loaded on demand (the mouse tools after
//                             the first image)
//   decodeImageFrameWorker.js ES-module decode worker; the image loader resolves
//                             it next to viewer-core, so the name must not change
//   worker-chunk.<hash>.js    codec glue of the worker, imported only for
//                             compressed frames
//   viewer.css                styles (the loader injects a <link> to it by default)
//   wasm/*.wasm               codecs for compressed transfer syntaxes (lazy-loaded)
//   LICENSES.txt              licences of every npm package inside the bundles
//   manifest.json             package versions + sha256/size of every other file
//
// Names with <hash> are content hashes: they never change content, so they can
// be served with a long immutable cache lifetime (see WHITENOISE_IMMUTABLE_FILE_TEST).
//
// The build is deterministic (no timestamps): rebuilding from the same
// package-lock.json gives byte-identical files, which
// tests/frontend/test_bundle_manifest.py checks via manifest.json.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync, renameSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const nm = join(here, 'node_modules');
const outDir = resolve(process.argv[2] || join(here, '..', 'readerstudy', 'reading', 'static', 'reading', 'viewer'));

// Codecs shipped as wasm. The dev/Django DICOMweb serves raw little-endian
// frames, which need no codec at all; these cover lossless CT archives
// (JPEG 2000, JPEG-LS, HTJ2K). JPEG lossless (process 14), RLE and deflate are
// pure JS inside the worker. Left out on purpose (CT is 12-16 bit and never
// stored that way): 8-bit baseline JPEG (libjpeg-turbo, 181 KB) and JPEG-XL
// (1.09 MB). Their JS glue is stubbed in the worker, so such a frame fails
// with a clear "codec not bundled" error instead of a 404 on a wasm file.
const WASM = [
  ['@cornerstonejs/codec-openjpeg/dist/openjpegwasm_decode.wasm', 'openjpegwasm_decode.wasm'],
  ['@cornerstonejs/codec-charls/dist/charlswasm_decode.wasm', 'charlswasm_decode.wasm'],
  ['@cornerstonejs/codec-openjph/dist/openjphjs.wasm', 'openjphjs.wasm'],
];
const DROPPED_CODECS = {
  '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs': 'JPEG baseline 8-bit (libjpeg-turbo)',
  '@cornerstonejs/codec-libjxl/decodewasmjs': 'JPEG-XL (libjxl)',
};

// Packages whose versions go into manifest.json (also checked against the lockfile).
const PINNED = [
  '@cornerstonejs/core',
  '@cornerstonejs/tools',
  '@cornerstonejs/dicom-image-loader',
  '@cornerstonejs/metadata',
  '@cornerstonejs/utils',
  '@cornerstonejs/codec-openjpeg',
  '@cornerstonejs/codec-charls',
  '@cornerstonejs/codec-openjph',
  '@kitware/vtk.js',
  'dicom-parser',
  'esbuild',
];

const XMLBUILDER2_STUB = join(here, 'src', 'stubs', 'xmlbuilder2.js');
const EMPTY = join(here, 'src', 'stubs', 'empty.js');
const NODE_BUILTINS = /^(node:)?(fs|path|crypto|os|module|worker_threads|perf_hooks|child_process|util|stream|buffer|zlib|http|https|tty|vm)$/;

// Replace Node built-ins (emscripten glue references them only on its Node
// code paths) and xmlbuilder2 (see src/stubs/xmlbuilder2.js; it was also the
// only importer of Node's "events" and "url").
const nodeStubs = {
  name: 'node-stubs',
  setup(build) {
    build.onResolve({ filter: /^xmlbuilder2$/ }, () => ({ path: XMLBUILDER2_STUB }));
    build.onResolve({ filter: NODE_BUILTINS }, () => ({ path: EMPTY }));
  },
};

const droppedCodecs = {
  name: 'dropped-codecs',
  setup(build) {
    const filter = new RegExp(`^(${Object.keys(DROPPED_CODECS).map((s) => s.replace(/[/.-]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'dropped-codec' }));
    build.onLoad({ filter: /.*/, namespace: 'dropped-codec' }, (args) => ({
      contents:
        `export default function () { return Promise.reject(new Error(` +
        `${JSON.stringify(`readerstudy viewer: ${DROPPED_CODECS[args.path]} codec not bundled (see frontend/build.mjs)`)})); }`,
      loader: 'js',
    }));
  },
};

// Codec glue the worker needs only for compressed frames: replaced by a
// wrapper that imports the real module on first use (a separate worker chunk),
// so the worker starts without parsing ~110 KB of emscripten glue.
const LAZY_CODECS = [
  '@cornerstonejs/codec-openjpeg/decodewasmjs',
  '@cornerstonejs/codec-charls/decodewasmjs',
  '@cornerstonejs/codec-openjph/wasmjs',
];
const lazyCodecs = {
  name: 'lazy-codecs',
  setup(build) {
    const filter = new RegExp(`^(${LAZY_CODECS.map((s) => s.replace(/[/.-]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, async (args) => {
      if (args.pluginData?.real) return undefined;
      const real = await build.resolve(args.path, { kind: 'dynamic-import', resolveDir: args.resolveDir, pluginData: { real: true } });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: 'lazy-codec', pluginData: { spec: args.path, resolveDir: args.resolveDir } };
    });
    build.onLoad({ filter: /.*/, namespace: 'lazy-codec' }, (args) => ({
      contents:
        `export default function (options) {\n` +
        `  return import(${JSON.stringify(args.path)}).then((m) => (m.default || m)(options));\n}\n`,
      resolveDir: args.pluginData.resolveDir,
      loader: 'js',
    }));
  },
};

// Uncompressed frames are decoded on the main thread (src/decode.js), the rest
// in the worker: the image loader's createImage imports our decodeImageFrame.
const rawDecodeOnMainThread = {
  name: 'raw-decode-on-main-thread',
  setup(build) {
    build.onResolve({ filter: /^\.\/decodeImageFrame\.js$/ }, (args) =>
      args.importer.endsWith(join('imageLoader', 'createImage.js')) ? { path: join(here, 'src', 'decode.js') } : undefined,
    );
  },
};

// Keep the ES-module worker entry (which runs comlink's expose() on import) and
// its decoders out of the main-thread bundle: the package barrel imports it, but
// the main thread only needs init, wadors and the multipart helpers.
const DIL = join(nm, '@cornerstonejs', 'dicom-image-loader', 'dist', 'esm');

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

function packageOf(inputPath) {
  // "node_modules/@scope/name/dist/x.js" -> "@scope/name"
  const parts = inputPath.split('/');
  const i = parts.lastIndexOf('node_modules');
  if (i < 0) return null;
  return parts[i + 1].startsWith('@') ? `${parts[i + 1]}/${parts[i + 2]}` : parts[i + 1];
}

function licenseText(pkgDir) {
  for (const name of ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'LICENCE', 'license.md', 'LICENSE-MIT']) {
    const p = join(pkgDir, name);
    if (existsSync(p)) return readFileSync(p, 'utf8').trim();
  }
  return null;
}

const common = {
  bundle: true,
  platform: 'browser',
  minify: true,
  legalComments: 'none', // collected into LICENSES.txt instead
  charset: 'utf8',
  logLevel: 'warning',
  metafile: true,
  absWorkingDir: here,
};

async function main() {
  const t0 = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'wasm'), { recursive: true });

  // 1. The decode worker (ES module, its own chunks for the codec glue).
  const worker = await esbuild.build({
    ...common,
    entryPoints: { decodeImageFrameWorker: join(DIL, 'decodeImageFrameWorker.js') },
    outdir: outDir,
    entryNames: '[name]',
    chunkNames: 'worker-chunk.[hash]',
    format: 'esm',
    splitting: true,
    plugins: [droppedCodecs, lazyCodecs, nodeStubs],
  });

  // 2. The core (ES module + chunks): Cornerstone3D, the image loader, mount().
  //    Its file name carries a content hash; the loader is told the name.
  const core = await esbuild.build({
    ...common,
    entryPoints: { 'viewer-core': join(here, 'src', 'core.js') },
    outdir: outDir,
    entryNames: '[name]',
    chunkNames: 'viewer-chunk.[hash]',
    format: 'esm',
    splitting: true,
    plugins: [rawDecodeOnMainThread, droppedCodecs, lazyCodecs, nodeStubs],
  });
  // The core's name carries a hash of its bytes, computed here: esbuild's own [hash]
  // of an entry also depends on where the source tree lies, so a clone elsewhere would
  // name identical bytes differently.
  const coreOut = Object.entries(core.metafile.outputs).find(([, o]) => o.entryPoint);
  const coreBytes = readFileSync(join(outDir, 'viewer-core.js'));
  const coreFile = `viewer-core.${createHash('sha256').update(coreBytes).digest('hex').slice(0, 8).toUpperCase()}.js`;
  renameSync(join(outDir, 'viewer-core.js'), join(outDir, coreFile));
  // The core and the chunks it imports statically: the loader asks for all of
  // them at once (<link rel=modulepreload>), instead of discovering the chunk
  // only after the core has been fetched and parsed.
  const preload = [coreFile, ...coreOut[1].imports.filter((i) => i.kind === 'import-statement').map((i) => i.path.split('/').pop())];

  // 3. The loader (classic script, no Cornerstone inside): window.ReaderstudyViewer.
  const main = await esbuild.build({
    ...common,
    entryPoints: [join(here, 'src', 'index.js')],
    outfile: join(outDir, 'viewer.js'),
    format: 'iife',
    define: {
      __READERSTUDY_VIEWER_CORE__: JSON.stringify(coreFile),
      __READERSTUDY_VIEWER_PRELOAD__: JSON.stringify(preload),
      __READERSTUDY_CORNERSTONE_VERSION__: JSON.stringify(
        JSON.parse(readFileSync(join(nm, '@cornerstonejs', 'core', 'package.json'), 'utf8')).version,
      ),
    },
    banner: { js: '/* readerstudy viewer loader (Cornerstone3D in viewer-core), see LICENSES.txt */' },
    plugins: [nodeStubs],
  });

  for (const [src, name] of WASM) copyFileSync(join(nm, src), join(outDir, 'wasm', name));
  copyFileSync(join(here, 'src', 'viewer.css'), join(outDir, 'viewer.css'));

  // Licences of every package that ended up in a bundle or a copied wasm file.
  const pkgs = new Set();
  for (const r of [main, core, worker]) {
    for (const input of Object.keys(r.metafile.inputs)) {
      const p = packageOf(input.split(sep).join('/'));
      if (p) pkgs.add(p);
    }
  }
  for (const [src] of WASM) pkgs.add(packageOf(`node_modules/${src}`));
  const licences = [
    'Third-party software bundled in viewer.js, viewer-core/viewer-chunk/worker-chunk *.js, decodeImageFrameWorker.js and wasm/.',
    'Generated by frontend/build.mjs from frontend/node_modules.',
    '',
  ];
  for (const p of [...pkgs].sort()) {
    const dir = join(nm, p);
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    licences.push('='.repeat(78), `${p}@${pj.version}  (${pj.license || 'see below'})`, '-'.repeat(78));
    licences.push(licenseText(dir) || `No licence file in the package; package.json says: ${pj.license}`, '');
  }
  writeFileSync(join(outDir, 'LICENSES.txt'), licences.join('\n'));

  // manifest.json: versions + sha256/size of every other output file.
  const packages = {};
  for (const p of PINNED) {
    packages[p] = JSON.parse(readFileSync(join(nm, p, 'package.json'), 'utf8')).version;
  }
  const files = {};
  for (const f of listFiles(outDir)) {
    const rel = relative(outDir, f).split(sep).join('/');
    if (rel === 'manifest.json') continue;
    files[rel] = { sha256: sha256(f), size: statSync(f).size };
  }
  const manifest = {
    name: 'readerstudy-viewer',
    version: JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).version,
    build: 'cd frontend && npm ci && node build.mjs',
    packages,
    entry: { loader: 'viewer.js', core: coreFile, preload, worker: 'decodeImageFrameWorker.js' },
    codecs: {
      bundled: WASM.map(([, name]) => `wasm/${name}`),
      dropped: Object.values(DROPPED_CODECS),
    },
    files,
  };
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

  const total = Object.values(files).reduce((s, f) => s + f.size, 0);
  for (const [name, f] of Object.entries(files)) console.log(`${String(f.size).padStart(10)}  ${name}`);
  console.log(`${String(total).padStart(10)}  total -> ${outDir} (${Date.now() - t0} ms)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
