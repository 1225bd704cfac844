/**
 * MCP Apps (SEP-1865) for plugins: `mcpApp({...})` gives the tool's `app` and the two `ui://`
 * resources to register — the app itself (`uri`), which draws the tool result the host sends it,
 * and `uri/{id}`, the same document with one record's data embedded (read in the caller's
 * project, so another tenant's ids look like ids that do not exist) for hosts that show a resource
 * without running it as an app. Each document is self-contained: inline script and style, no
 * network, hand-written SVG.
 *
 * ```ts
 * const app = mcpApp({ name: 'job-curve', uri: 'ui://anvil/jobs/curve', ..., script, load, idOf });
 * ctx.tool({ ...jobsGet, app: app.tool });
 * for (const resource of app.resources) ctx.resource(resource);
 * ```
 */
import { AnvilError, ErrorCodes } from '../../server/errors.ts';
import { APP_KIT_SCRIPT, APP_KIT_STYLE } from './app-kit.ts';
import { MCP_APP_MIME_TYPE, type ResourceContext, type ResourceSpec, type ToolApp } from './types.ts';

export interface McpAppSpec {
  /** Resource name: `<name>` for the app, `<name>-data` for the one with a record embedded. */
  readonly name: string;
  /** `ui://<plugin or anvil>/<path>`; the data variant is `<uri>/{id}`. */
  readonly uri: string;
  readonly title: string;
  readonly description: string;
  /** Needed to read either resource (the same as the tool's). */
  readonly scopes: readonly string[];
  /**
   * Browser code defining `function anvilRender(data, root, kit)`: `data.result` is the tool's
   * structured output (plus whatever `load` adds when embedded), `data.input` the call's arguments
   * when the host sent them (`ui/notifications/tool-input`); `kit` has `el`, `svg`, `fmt`,
   * `lineChart`, `chartData` (a chart's "Show data" table), `heatmap`, `gauge`, `table`, `legend`,
   * `callTool`, `callToolResult`, `canCallTools`, `readJson`. Plain ES2017.
   */
  readonly script: string;
  readonly style?: string;
  /** The data drawn for one record of the caller's project: `{result: <tool output>, ...extras}`. Throws NOT_FOUND like the tool. */
  load(id: string, context: ResourceContext): Promise<Record<string, unknown>>;
  /** The record a tool output is about (its id), for the link from the result. */
  idOf(output: Record<string, unknown>): string | undefined;
}

export interface McpApp {
  /** For `ToolSpec.app`. */
  readonly tool: ToolApp;
  /** Register each with `ctx.resource`. */
  readonly resources: readonly ResourceSpec[];
  /** The app's HTML, with `data` embedded when given. */
  html(data?: Record<string, unknown>): string;
}

/** JSON safe inside `<script type="application/json">`: nothing in it can close the element or open a comment. */
function embeddedJson(data: unknown): string {
  return JSON.stringify(data).replaceAll('<', '\\u003c').replaceAll('>', '\\u003e').replaceAll('&', '\\u0026').replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** Browser code must not close its own script element. */
function scriptText(code: string, what: string): string {
  if (/<\/script/i.test(code)) throw new AnvilError(ErrorCodes.PLUGIN_INVALID, `${what}: an app script must not contain "</script"`);
  return code;
}

function idOf(variables: Record<string, string | string[]>): string {
  const raw = variables.id;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') throw new AnvilError(ErrorCodes.INVALID_INPUT, 'the app resource URI names no id');
  try {
    return decodeURIComponent(value);
  } catch {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, "the app resource URI's id is not valid percent-encoding");
  }
}

export function mcpApp(spec: McpAppSpec): McpApp {
  if (!/^ui:\/\/[a-z0-9][a-z0-9_-]*\/[A-Za-z0-9/_-]+$/.test(spec.uri)) {
    throw new AnvilError(ErrorCodes.PLUGIN_INVALID, `MCP App ${spec.name}: uri must look like ui://<plugin>/<path>, got ${spec.uri}`);
  }
  const appScript = scriptText(spec.script, `MCP App ${spec.name}`);
  const style = `${APP_KIT_STYLE}${spec.style ?? ''}`;
  if (/<\/style/i.test(style)) throw new AnvilError(ErrorCodes.PLUGIN_INVALID, `MCP App ${spec.name}: its style must not contain "</style"`);

  const html = (data?: Record<string, unknown>): string =>
    [
      '<!DOCTYPE html>',
      `<html lang="en" data-app="${escapeHtml(spec.name)}">`,
      '<head>',
      '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      `<title>${escapeHtml(spec.title)}</title>`,
      `<style>${style}</style>`,
      '</head>',
      '<body>',
      '<main id="app" aria-live="polite"></main>',
      data === undefined ? '' : `<script type="application/json" id="anvil-data">${embeddedJson(data)}</script>`,
      `<script>${appScript}</script>`,
      `<script>${APP_KIT_SCRIPT}</script>`,
      '</body>',
      '</html>',
    ].join('\n');

  // The bare app never changes: built once.
  const bare = html();
  const dataUri = `${spec.uri}/{id}`;
  const resources: ResourceSpec[] = [
    {
      name: spec.name,
      title: spec.title,
      description: `${spec.description} (MCP App: draws the tool result the host sends it)`,
      uri: spec.uri,
      mimeType: MCP_APP_MIME_TYPE,
      scopes: spec.scopes,
      async read(uri) {
        return { contents: [{ uri: uri.href, mimeType: MCP_APP_MIME_TYPE, text: bare, _meta: { ui: { prefersBorder: true } } }] };
      },
    },
    {
      name: `${spec.name}-data`,
      title: spec.title,
      description: `${spec.description} (MCP App with one record's data embedded)`,
      uri: dataUri,
      mimeType: MCP_APP_MIME_TYPE,
      scopes: spec.scopes,
      async read(uri, variables, context) {
        const data = await spec.load(idOf(variables), context);
        return { contents: [{ uri: uri.href, mimeType: MCP_APP_MIME_TYPE, text: html(data), _meta: { ui: { prefersBorder: true } } }] };
      },
    },
  ];
  return {
    tool: {
      resourceUri: spec.uri,
      title: spec.title,
      resultUri(output) {
        const id = spec.idOf(output);
        return id === undefined ? undefined : `${spec.uri}/${encodeURIComponent(id)}`;
      },
    },
    resources,
    html,
  };
}
