// Validates rendered Kubernetes manifests offline (no API server) and prints them back as JSON.
//
// Usage: node validate.mjs FILE.yaml   (a multi-document YAML stream, as `kubectl kustomize` prints it; - for stdin)
//
// Each object is checked twice:
//   1. schema: kubernetes-models' validator for its apiVersion and kind (types, enums, required fields), and
//      @kubernetes-models/prometheus-operator's for the Prometheus operator's ServiceMonitor and PrometheusRule. It lets
//      unknown fields pass, as Kubernetes' OpenAPI schemas do.
//   2. unknown fields: every key of the object, at every depth, must be a property that kubernetes-models declares for
//      that type (read from its TypeScript declarations, which are generated from the same OpenAPI schema). A
//      misspelt or misplaced field (`replica`, `livenessprobe`, a probe under `resources`) is reported with its path.
//
// Prints one JSON document: { "objects": [ { "apiVersion", "kind", "name", "namespace", "object", "errors": [...] } ] }
// and exits 0 when no object has an error, 1 when some have, 2 when the input cannot be read.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Parsed declarations by .d.ts file: property name -> how to check its value. */
const interfaces = new Map();

function fail(message) {
  process.stderr.write(`validate.mjs: ${message}\n`);
  process.exit(2);
}

const input = process.argv[2];
if (!input) {
  fail('usage: node validate.mjs FILE.yaml (or - for standard input)');
}

let text;
try {
  text = readFileSync(input === '-' ? 0 : input, 'utf8');
} catch (error) {
  fail(`cannot read ${input}: ${error.message}`);
}

// YAML 1.1, as Kubernetes' own decoder reads it: an unquoted `yes` or `on` is a boolean there, not a string.
const documents = parseAllDocuments(text, { version: '1.1', uniqueKeys: true });
const objects = [];
for (const document of Array.isArray(documents) ? documents : [documents]) {
  if (document.errors.length > 0) {
    fail(`YAML: ${document.errors.map((e) => e.message).join('; ')}`);
  }

  const object = document.toJS();
  if (object === null || object === undefined) {
    continue;
  }

  objects.push(await check(object));
}

process.stdout.write(JSON.stringify({ objects }, null, 2) + '\n');
process.exit(objects.some((o) => o.errors.length > 0) ? 1 : 0);

async function check(object) {
  const result = {
    apiVersion: object?.apiVersion ?? null,
    kind: object?.kind ?? null,
    name: object?.metadata?.name ?? null,
    namespace: object?.metadata?.namespace ?? null,
    object,
    errors: [],
  };

  if (typeof object !== 'object' || Array.isArray(object)) {
    result.errors.push('a document is not an object');
    return result;
  }

  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
    result.errors.push('apiVersion and kind are required');
    return result;
  }

  // The Prometheus operator's custom resources (ServiceMonitor, PrometheusRule) come from their own models package.
  const specifier = object.apiVersion.startsWith('monitoring.coreos.com/')
    ? `@kubernetes-models/prometheus-operator/${object.apiVersion}/${object.kind}`
    : `kubernetes-models/${object.apiVersion}/${object.kind}`;
  let module;
  try {
    module = await import(specifier);
  } catch {
    result.errors.push(`no schema for ${object.apiVersion} ${object.kind} in kubernetes-models`);
    return result;
  }

  const Model = module[object.kind] ?? module.default;
  try {
    new Model(asDecoded(object)).validate();
  } catch (error) {
    for (const line of String(error.message ?? error).split('\n').filter((l) => l.trim() !== '')) {
      result.errors.push(`schema: ${line.trim()}`);
    }
  }

  const declarations = fileURLToPath(import.meta.resolve(specifier)).replace(/\.js$/, '.d.ts');
  unknownFields(object, readInterface(declarations), '', result.errors);
  return result;
}

/**
 * Base64 fields (Secret data, ConfigMap binaryData) as Kubernetes decodes them: Go's base64 decoder skips line breaks,
 * and kustomize wraps long values over several lines, so the schema's "byte" format sees them without.
 */
function asDecoded(object) {
  const field = object.kind === 'Secret' ? 'data' : object.kind === 'ConfigMap' ? 'binaryData' : null;
  if (!field || object[field] === null || typeof object[field] !== 'object') {
    return object;
  }

  const values = Object.fromEntries(Object.entries(object[field]).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v]));
  return { ...object, [field]: values };
}

// ---- Known fields, from kubernetes-models' TypeScript declarations ----

/**
 * The properties of the interface declared in a model's .d.ts file: name -> { kind: 'object' | 'array' | 'map' |
 * 'leaf', file } where file is the .d.ts of the element type for object, array and map properties.
 */
function readInterface(file) {
  if (interfaces.has(file)) {
    return interfaces.get(file);
  }

  const source = readFileSync(file, 'utf8');
  const header = /^export interface I\w+(?: extends ([\w, ]+))? \{$/m.exec(source);
  const start = header ? header.index : -1;
  if (start < 0) {
    // A type alias (Quantity, IntOrString, Time, JSON): a value, not an object with known fields.
    interfaces.set(file, null);
    return null;
  }

  const imports = new Map();
  for (const match of source.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
    imports.set(match[1], resolveDeclaration(match[2], file));
  }

  const properties = new Map();
  interfaces.set(file, properties);
  // Properties inherited from a base interface (the Prometheus operator's models extend shared ones, such as an
  // endpoint's HTTP settings); TypeMeta's apiVersion and kind are declared again by every model.
  for (const base of (header[1] ?? '').split(',').map((b) => b.trim()).filter((b) => b && b !== 'TypeMeta' && imports.has(b))) {
    for (const [name, property] of readInterface(imports.get(base)) ?? []) {
      properties.set(name, property);
    }
  }

  const body = source.slice(source.indexOf('{', start) + 1, source.indexOf('\n}', start));
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^ {4}"([^"]+)"\??: (.*)$/.exec(lines[i]);
    if (!match) {
      continue;
    }

    // A type spans lines while its braces are open: `{ [key: string]: T; }`.
    let type = match[2];
    let depth = (type.match(/\{/g) ?? []).length - (type.match(/\}/g) ?? []).length;
    while (depth > 0 && i + 1 < lines.length) {
      i++;
      type += ' ' + lines[i].trim();
      depth += (lines[i].match(/\{/g) ?? []).length - (lines[i].match(/\}/g) ?? []).length;
    }

    properties.set(match[1], describe(type.replace(/;$/, '').trim(), imports));
  }

  return properties;
}

function describe(type, imports) {
  let match = /^Array<(\w+)>$/.exec(type);
  if (match) {
    return imports.has(match[1]) ? { kind: 'array', file: imports.get(match[1]) } : { kind: 'leaf' };
  }

  match = /^\{ \[key: string\]: (\w+); \}$/.exec(type);
  if (match) {
    return imports.has(match[1]) ? { kind: 'map', file: imports.get(match[1]) } : { kind: 'leaf' };
  }

  if (imports.has(type)) {
    return { kind: 'object', file: imports.get(type) };
  }

  return { kind: 'leaf' };
}

function resolveDeclaration(specifier, from) {
  if (specifier.startsWith('.')) {
    return path.resolve(path.dirname(from), specifier).replace(/\.js$/, '.d.ts');
  }

  // A package path such as @kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta.
  const resolved = fileURLToPath(import.meta.resolve(specifier, pathToFileURL(from).href));
  const declarations = resolved.replace(/\.js$/, '.d.ts');
  if (!existsSync(declarations)) {
    throw new Error(`no declarations for ${specifier} (from ${path.relative(here, from)})`);
  }

  return declarations;
}

function unknownFields(value, properties, at, errors) {
  if (!properties || value === null || typeof value !== 'object' || Array.isArray(value)) {
    return;
  }

  for (const [key, child] of Object.entries(value)) {
    const where = `${at}/${key}`;
    const property = properties.get(key);
    if (!property) {
      errors.push(`unknown field ${where}`);
      continue;
    }

    if (property.kind === 'object') {
      unknownFields(child, readInterface(property.file), where, errors);
    } else if (property.kind === 'array' && Array.isArray(child)) {
      const element = readInterface(property.file);
      child.forEach((item, index) => unknownFields(item, element, `${where}/${index}`, errors));
    } else if (property.kind === 'map' && child !== null && typeof child === 'object') {
      const element = readInterface(property.file);
      for (const [name, item] of Object.entries(child)) {
        unknownFields(item, element, `${where}/${name}`, errors);
      }
    }
  }
}
