// Bundles the viewer into one folder: index.html, assets/main-<hash>.js and .css (uPlot included), the lazily loaded
// chunks (the world map: d3-geo, topojson-client and world-atlas's shapes), favicon. Nothing is fetched at run time.
// Usage: node build.mjs <output folder>   (ImpactGrains.Viewer's build runs it through Viewer.targets)
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile, copyFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { geoCentroid } from 'd3-geo';
import { feature } from 'topojson-client';
import { iso31661NumericToAlpha2 } from 'iso-3166';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] ?? path.join(here, 'dist'));

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

/**
 * `import smallRegions from 'impact:small-regions'`: where the countries and territories too small for the 1:110m
 * shapes the map draws (Singapore, Hong Kong, Malta, most islands) lie, as [longitude, latitude] by ISO 3166-1
 * alpha-2 code. Worked out here, at build time, from world-atlas's 1:50m shapes, so that the viewer can mark them
 * with a dot without shipping the 1:50m file.
 */
const smallRegionsPlugin = {
  name: 'small-regions',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^impact:small-regions$/ }, () => ({ path: 'small-regions', namespace: 'impact' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'impact' }, async () => {
      const atlas = path.join(here, 'node_modules', 'world-atlas');
      const read = async (name) => JSON.parse(await readFile(path.join(atlas, name), 'utf8'));
      const [coarse, fine] = await Promise.all([read('countries-110m.json'), read('countries-50m.json')]);
      const codeOf = (geometry) => iso31661NumericToAlpha2[geometry.id];
      const drawn = new Set(coarse.objects.countries.geometries.map(codeOf).filter(Boolean));
      const places = {};
      for (const country of feature(fine, fine.objects.countries).features) {
        const code = codeOf(country);
        if (!code || drawn.has(code) || places[code]) continue;
        const [longitude, latitude] = geoCentroid(country);
        places[code] = [Math.round(longitude * 100) / 100, Math.round(latitude * 100) / 100];
      }
      return { contents: JSON.stringify(places), loader: 'json', watchFiles: [path.join(atlas, 'countries-50m.json')] };
    });
  },
};

const result = await build({
  entryPoints: { main: path.join(here, 'src', 'main.js') },
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  splitting: true,
  target: ['es2020'],
  outdir: out,
  entryNames: 'assets/[name]-[hash]',
  chunkNames: 'assets/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  plugins: [smallRegionsPlugin],
});

const relative = (file) => path.relative(out, path.resolve(file)).split(path.sep).join('/');
const outputs = Object.entries(result.metafile.outputs);
const script = outputs.find(([file, output]) => file.endsWith('.js') && output.entryPoint)?.[0];
const style = outputs.find(([file]) => file.endsWith('.css'))?.[0];
if (!script || !style) {
  throw new Error(`the bundle is incomplete: ${outputs.map(([file]) => file).join(', ')}`);
}

const template = await readFile(path.join(here, 'index.html'), 'utf8');
const html = template
  .replace('<!--style-->', `<link rel="stylesheet" href="/${relative(style)}">`)
  .replace('<!--script-->', `<script type="module" src="/${relative(script)}"></script>`);
await writeFile(path.join(out, 'index.html'), html);

for (const file of await readdir(path.join(here, 'public'))) {
  await copyFile(path.join(here, 'public', file), path.join(out, file));
}

const sizes = outputs.filter(([file]) => !file.endsWith('.map')).map(([file, output]) => `${relative(file)} (${Math.round(output.bytes / 1024)} KiB)`);
console.log(`viewer: ${sizes.join(', ')} -> ${out}`);
