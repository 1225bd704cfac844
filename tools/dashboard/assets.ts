/**
 * The dashboard's files, read once at start: our own page, script and styles from ./ui/, and the
 * browser builds of Preact, htm and uPlot from the installed npm packages (no CDN, no build step).
 * The page's import map is the only inline script; the Content-Security-Policy allows it by hash.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: string;
  readonly type: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function typeOf(file: string): string {
  return TYPES[path.extname(file)] ?? 'application/octet-stream';
}

function packageFile(specifier: string): string {
  return fileURLToPath(import.meta.resolve(specifier));
}

/** uPlot has no `exports` map: its main is the CommonJS build, the ESM build and CSS sit beside it. */
function uplotFile(name: string): string {
  return path.join(path.dirname(packageFile('uplot')), name);
}

/** Public name (under /ui/vendor/) → file in node_modules. */
function vendorFiles(): Record<string, string> {
  return {
    'preact.mjs': packageFile('preact'),
    'preact-hooks.mjs': packageFile('preact/hooks'),
    'htm.mjs': packageFile('htm'),
    'uplot.mjs': uplotFile('uPlot.esm.js'),
    'uplot.css': uplotFile('uPlot.min.css'),
  };
}

const IMPORT_MAP = JSON.stringify({
  imports: {
    preact: '/ui/vendor/preact.mjs',
    'preact/hooks': '/ui/vendor/preact-hooks.mjs',
    htm: '/ui/vendor/htm.mjs',
    uplot: '/ui/vendor/uplot.mjs',
  },
});

export interface DashboardAssets {
  readonly page: Asset;
  readonly csp: string;
  /** `/ui/static/<name>` and `/ui/vendor/<name>`. */
  file(area: 'static' | 'vendor', name: string): Asset | undefined;
}

export function loadAssets(): DashboardAssets {
  const uiDir = fileURLToPath(new URL('./ui/', import.meta.url));
  const own = new Map<string, Asset>();
  for (const name of ['app.js', 'api.js', 'pages.js', 'widgets.js', 'markdown.js', 'app.css']) {
    own.set(name, { body: readFileSync(path.join(uiDir, name), 'utf8'), type: typeOf(name) });
  }
  const vendor = new Map<string, Asset>();
  for (const [name, file] of Object.entries(vendorFiles())) {
    // Source-map comments would make the browser ask for files we do not serve.
    vendor.set(name, { body: readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'), type: typeOf(name) });
  }
  const template = readFileSync(path.join(uiDir, 'index.html'), 'utf8');
  const page = { body: template.replace('{{importMap}}', IMPORT_MAP), type: typeOf('index.html') };
  const mapHash = createHash('sha256').update(IMPORT_MAP).digest('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'self' 'sha256-${mapHash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    page,
    csp,
    file(area, name) {
      return (area === 'static' ? own : vendor).get(name);
    },
  };
}
