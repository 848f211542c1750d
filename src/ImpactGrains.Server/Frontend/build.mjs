// Bundles the viewer into one folder: index.html, assets/main-<hash>.js and .css (uPlot included), favicon.
// Usage: node build.mjs <output folder>   (the server's build runs it through Viewer.targets)
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile, copyFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] ?? path.join(here, 'dist'));

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const result = await build({
  entryPoints: { main: path.join(here, 'src', 'main.js') },
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  target: ['es2020'],
  outdir: out,
  entryNames: 'assets/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((file) => path.relative(out, path.resolve(file)).split(path.sep).join('/'));
const script = outputs.find((f) => f.endsWith('.js'));
const style = outputs.find((f) => f.endsWith('.css'));
if (!script || !style) {
  throw new Error(`the bundle is incomplete: ${outputs.join(', ')}`);
}

const template = await readFile(path.join(here, 'index.html'), 'utf8');
const html = template
  .replace('<!--style-->', `<link rel="stylesheet" href="/${style}">`)
  .replace('<!--script-->', `<script type="module" src="/${script}"></script>`);
await writeFile(path.join(out, 'index.html'), html);

for (const file of await readdir(path.join(here, 'public'))) {
  await copyFile(path.join(here, 'public', file), path.join(out, file));
}

console.log(`viewer: ${script}, ${style} -> ${out}`);
