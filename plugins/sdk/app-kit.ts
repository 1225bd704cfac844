/**
 * The browser side every Anvil MCP App shares, inlined into each app's HTML (no CDN, no fetch): the
 * SEP-1865 handshake with the host over postMessage JSON-RPC (`ui/initialize`, then
 * `ui/notifications/initialized`; `ui/notifications/tool-result` carries the result to draw;
 * `ui/resource-teardown` and `ping` are answered; the size is reported with
 * `ui/notifications/size-changed`), `tools/call` and `resources/read` through the host when it
 * offers them, and small hand-written SVG charts. Data is only ever put in the page as text nodes
 * and attributes, never as markup, so labels from datasets cannot inject anything.
 *
 * Plain ES2017 in a string: it runs in whatever engine the host's iframe has.
 */
export const APP_KIT_SCRIPT = String.raw`
(function () {
  'use strict';
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var nextId = 1;
  var pending = {};
  var hostCapabilities = {};
  var toolInput = null;
  var inFrame = window.parent && window.parent !== window;
  var root = document.getElementById('app');

  function send(message) { if (inFrame) window.parent.postMessage(message, '*'); }
  function notify(method, params) { send({ jsonrpc: '2.0', method: method, params: params || {} }); }
  function request(method, params) {
    if (!inFrame) return Promise.reject(new Error('no host'));
    var id = nextId++;
    send({ jsonrpc: '2.0', id: id, method: method, params: params || {} });
    return new Promise(function (resolve, reject) {
      pending[id] = { resolve: resolve, reject: reject };
      setTimeout(function () { if (pending[id]) { delete pending[id]; reject(new Error(method + ' timed out')); } }, 15000);
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (name) { if (attrs[name] !== undefined && attrs[name] !== null) node.setAttribute(name, String(attrs[name])); });
  }
  function append(node, children) {
    if (children === undefined || children === null) return;
    (Array.isArray(children) ? children : [children]).forEach(function (child) {
      if (child === undefined || child === null || child === false) return;
      node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    });
  }
  function fmt(value, digits) {
    if (value === null || value === undefined) return '—';
    if (typeof value !== 'number') return String(value);
    if (!isFinite(value)) return String(value);
    var abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(2);
    return String(Number(value.toFixed(digits === undefined ? 4 : digits)));
  }
  function finite(value) { return typeof value === 'number' && isFinite(value); }

  var palette = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#be185d', '#4d7c0f'];

  /** Seconds since the epoch as the reader's local date and time (options.time of a chart's x). */
  function fmtTime(seconds, short) {
    var date = new Date(seconds * 1000);
    return short ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : date.toLocaleString();
  }

  /**
   * Line chart of [{name, points: [{step, value}]}]; non-finite values leave gaps. options: label
   * (its accessible name), width, height, time (steps are seconds since the epoch, ticked as times),
   * xRange ([from, to]: a fixed x window, so a few points do not stretch over it).
   */
  function lineChart(series, options) {
    options = options || {};
    var width = options.width || 560, height = options.height || 240, pad = { left: 56, right: 12, top: 12, bottom: 28 };
    var xs = [], ys = [];
    series.forEach(function (s) { s.points.forEach(function (p) { if (finite(p.value)) { xs.push(p.step); ys.push(p.value); } }); });
    var chart = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': options.label || 'chart', class: 'chart' });
    if (xs.length === 0) { append(chart, svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'muted' }, 'no finite points yet')); return chart; }
    var range = options.xRange && finite(options.xRange[0]) && finite(options.xRange[1]) ? options.xRange : null;
    var x0 = range ? range[0] : Math.min.apply(null, xs), x1 = range ? range[1] : Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y1 = y0 + Math.abs(y0 || 1) * 0.05; y0 = y0 - Math.abs(y0 || 1) * 0.05; }
    var sx = function (v) { return pad.left + (v - x0) / (x1 - x0) * (width - pad.left - pad.right); };
    var sy = function (v) { return height - pad.bottom - (v - y0) / (y1 - y0) * (height - pad.top - pad.bottom); };
    append(chart, svg('line', { x1: pad.left, y1: height - pad.bottom, x2: width - pad.right, y2: height - pad.bottom, class: 'axis' }));
    append(chart, svg('line', { x1: pad.left, y1: pad.top, x2: pad.left, y2: height - pad.bottom, class: 'axis' }));
    [y0, (y0 + y1) / 2, y1].forEach(function (v) { append(chart, svg('text', { x: pad.left - 6, y: sy(v) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(v, 3))); });
    // The last tick ends at the right edge (centred there, a time label would be cut off).
    [x0, x1].forEach(function (v, index) { append(chart, svg('text', { x: sx(v), y: height - 8, 'text-anchor': index === 0 ? 'middle' : 'end', class: 'tick' }, options.time ? fmtTime(v, true) : fmt(v, 0))); });
    series.forEach(function (s, index) {
      var color = palette[index % palette.length], segment = [];
      var flush = function () { if (segment.length > 1) append(chart, svg('polyline', { points: segment.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.6 })); segment = []; };
      s.points.forEach(function (p) { if (finite(p.value)) segment.push(sx(p.step).toFixed(1) + ',' + sy(p.value).toFixed(1)); else flush(); });
      flush();
    });
    return chart;
  }

  function legend(names) {
    return el('ul', { class: 'legend' }, names.map(function (name, index) {
      return el('li', null, [el('span', { class: 'swatch', style: 'background:' + palette[index % palette.length] }), name]);
    }));
  }

  /** Heat map of a square matrix (rows: true labels, columns: predicted), shaded by row share. */
  function heatmap(classes, matrix, options) {
    options = options || {};
    var short = function (label) { label = String(label); return label.length > 16 ? label.slice(0, 15) + '…' : label; };
    var n = classes.length, cell = Math.max(14, Math.min(40, Math.floor(480 / Math.max(n, 1)))), label = 110;
    var size = label + n * cell + 8;
    // Drawn at its natural size at most: a few classes stay a compact grid, not a poster.
    var chart = svg('svg', { viewBox: '0 0 ' + size + ' ' + size, role: 'img', 'aria-label': options.label || 'confusion matrix', class: 'chart heatmap', style: 'max-width:' + size + 'px' });
    for (var r = 0; r < n; r++) {
      var row = matrix[r] || [], total = row.reduce(function (a, b) { return a + b; }, 0) || 1;
      append(chart, svg('text', { x: label - 4, y: label + r * cell + cell * 0.65, 'text-anchor': 'end', class: 'tick' }, short(classes[r])));
      for (var c = 0; c < n; c++) {
        var count = row[c] || 0, share = count / total;
        var fill = r === c ? 'rgba(5,150,105,' + (0.12 + share * 0.88).toFixed(3) + ')' : 'rgba(220,38,38,' + (count === 0 ? 0.03 : 0.12 + share * 0.88).toFixed(3) + ')';
        var rect = svg('rect', { x: label + c * cell, y: label + r * cell, width: cell - 1, height: cell - 1, fill: fill }, svg('title', null, classes[r] + ' → ' + classes[c] + ': ' + count));
        append(chart, rect);
        if (cell >= 22 && count > 0) append(chart, svg('text', { x: label + c * cell + cell / 2, y: label + r * cell + cell * 0.65, 'text-anchor': 'middle', class: 'cell' }, count));
      }
    }
    for (var k = 0; k < n; k++) {
      var x = label + k * cell + cell * 0.65;
      append(chart, svg('text', { x: x, y: label - 4, transform: 'rotate(-60 ' + x + ' ' + (label - 4) + ')', class: 'tick' }, short(classes[k])));
    }
    return chart;
  }

  /** A horizontal bar of value against threshold on [0, max]. */
  function gauge(value, threshold, max, ok) {
    var width = 220, height = 18, scale = function (v) { return Math.max(0, Math.min(width, v / (max || 1) * width)); };
    return svg('svg', { viewBox: '0 0 ' + width + ' ' + height, class: 'gauge', role: 'img', 'aria-label': 'value ' + fmt(value) + ' against threshold ' + fmt(threshold) }, [
      svg('rect', { x: 0, y: 4, width: width, height: height - 8, class: 'track' }),
      finite(value) ? svg('rect', { x: 0, y: 4, width: scale(value), height: height - 8, class: ok ? 'bar ok' : 'bar bad' }) : null,
      svg('line', { x1: scale(threshold), y1: 0, x2: scale(threshold), y2: height, class: 'threshold' }),
    ]);
  }

  /** A table of header cells and rows of cells; a caption names it when given. */
  function table(headers, rows, caption) {
    return el('table', null, [
      caption ? el('caption', null, caption) : null,
      el('thead', null, el('tr', null, headers.map(function (h) { return el('th', { scope: 'col' }, h); }))),
      el('tbody', null, rows.map(function (cells) { return el('tr', null, cells.map(function (c) { return el('td', null, c); })); })),
    ]);
  }

  /**
   * A chart's points as a table, as the dashboard's charts offer them (for screen readers and anyone
   * who wants the numbers): a "Show data" disclosure whose table is captioned with the chart's
   * title, one row per x and one column per series. The rows exist only while it is open.
   * series as lineChart's; options: xLabel, time (x as a date and time).
   */
  function chartData(title, series, options) {
    options = options || {};
    var details = el('details', { class: 'chart-data' }, el('summary', null, ['Show data', el('span', { class: 'visually-hidden' }, ': ' + title)]));
    details.addEventListener('toggle', function () {
      var shown = details.querySelector('.table-wrap, .muted');
      if (shown) details.removeChild(shown);
      if (!details.open) return;
      var xs = [], seen = {};
      var columns = series.map(function (s) {
        var byX = {};
        s.points.forEach(function (p) { byX[p.step] = p.value; if (!seen[p.step]) { seen[p.step] = true; xs.push(p.step); } });
        return byX;
      });
      xs.sort(function (a, b) { return a - b; });
      if (xs.length === 0) { append(details, el('p', { class: 'muted' }, 'No points yet.')); return; }
      var rows = xs.map(function (x) { return [options.time ? fmtTime(x) : fmt(x)].concat(columns.map(function (byX) { return fmt(byX[x]); })); });
      append(details, el('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': title }, table([options.xLabel || 'step'].concat(series.map(function (s) { return s.name; })), rows, title)));
    });
    return details;
  }

  var kit = {
    el: el, svg: svg, fmt: fmt, finite: finite, lineChart: lineChart, legend: legend, heatmap: heatmap, gauge: gauge, table: table, chartData: chartData,
    /** Calls a tool of this server through the host (null when the host does not proxy tool calls). */
    callTool: function (name, args) {
      if (!hostCapabilities.serverTools) return Promise.resolve(null);
      return request('tools/call', { name: name, arguments: args || {} }).then(function (result) { return result && !result.isError ? result.structuredContent || null : null; }, function () { return null; });
    },
    /** Whether the host proxies tool calls (known once ui/initialize is answered). */
    canCallTools: function () { return !!hostCapabilities.serverTools; },
    /**
     * Calls a tool through the host keeping the refusal: {isError, structuredContent, text} (the
     * result's text blocks, e.g. "ANVIL_E_FORBIDDEN: …"); null when the host does not proxy tool calls.
     */
    callToolResult: function (name, args) {
      if (!hostCapabilities.serverTools) return Promise.resolve(null);
      return request('tools/call', { name: name, arguments: args || {} }).then(function (result) {
        var text = ((result && result.content) || []).map(function (part) { return part && part.type === 'text' ? part.text : ''; }).join('\n');
        return { isError: !!(result && result.isError), structuredContent: (result && result.structuredContent) || null, text: text };
      }, function (error) { return { isError: true, structuredContent: null, text: error && error.message ? error.message : String(error) }; });
    },
    /** Reads a resource of this server through the host; the first text content parsed as JSON, or null. */
    readJson: function (uri) {
      if (!hostCapabilities.serverResources) return Promise.resolve(null);
      return request('resources/read', { uri: uri }).then(function (result) {
        var first = result && result.contents && result.contents[0];
        try { return first && typeof first.text === 'string' ? JSON.parse(first.text) : null; } catch (e) { return null; }
      }, function () { return null; });
    },
  };

  function draw(data) {
    while (root.firstChild) root.removeChild(root.firstChild);
    try { window.anvilRender(data, root, kit); }
    catch (error) { append(root, el('p', { class: 'error', role: 'alert' }, 'Could not draw this result: ' + (error && error.message ? error.message : String(error)))); }
  }

  function applyContext(context) {
    if (!context) return;
    if (context.theme === 'dark' || context.theme === 'light') document.documentElement.setAttribute('data-theme', context.theme);
    var variables = context.styles && context.styles.variables;
    if (variables) Object.keys(variables).forEach(function (name) { if (/^--[a-z0-9-]+$/.test(name) && typeof variables[name] === 'string') document.documentElement.style.setProperty(name, variables[name]); });
  }

  window.addEventListener('message', function (event) {
    if (inFrame && event.source !== window.parent) return;
    var message = event.data;
    if (!message || message.jsonrpc !== '2.0') return;
    if (message.method === undefined && message.id !== undefined && pending[message.id]) {
      var waiter = pending[message.id];
      delete pending[message.id];
      if (message.error) waiter.reject(new Error(message.error.message || 'error'));
      else waiter.resolve(message.result);
      return;
    }
    if (message.method === 'ui/notifications/tool-input') {
      var input = message.params && message.params.arguments;
      toolInput = input && typeof input === 'object' ? input : null;
    } else if (message.method === 'ui/notifications/tool-result') {
      var result = message.params || {};
      // The call's arguments ride along when the host sent them first (e.g. the window asked for).
      if (!result.isError && result.structuredContent) draw(toolInput ? { result: result.structuredContent, input: toolInput } : { result: result.structuredContent });
    } else if (message.method === 'ui/notifications/host-context-changed') {
      applyContext(message.params);
    } else if ((message.method === 'ui/resource-teardown' || message.method === 'ping') && message.id !== undefined) {
      send({ jsonrpc: '2.0', id: message.id, result: {} });
    }
  });

  var embedded = document.getElementById('anvil-data');
  var initial = null;
  if (embedded && embedded.textContent) { try { initial = JSON.parse(embedded.textContent); } catch (e) { initial = null; } }
  if (initial) draw(initial);
  else append(root, el('p', { class: 'muted' }, 'Waiting for the tool result…'));

  if (inFrame) {
    request('ui/initialize', { appInfo: { name: document.documentElement.getAttribute('data-app') || 'anvil-app', version: '1' }, appCapabilities: { availableDisplayModes: ['inline'] }, protocolVersion: '2026-01-26' })
      .then(function (result) {
        hostCapabilities = (result && result.hostCapabilities) || {};
        applyContext(result && result.hostContext);
        notify('ui/notifications/initialized', {});
        // Sizes are reported once the host has the view (nothing is sent before initialized).
        if (typeof ResizeObserver === 'function') {
          var lastHeight = 0;
          new ResizeObserver(function () {
            var height = Math.ceil(document.documentElement.scrollHeight);
            if (height !== lastHeight) { lastHeight = height; notify('ui/notifications/size-changed', { width: Math.ceil(document.documentElement.scrollWidth), height: height }); }
          }).observe(document.body);
        }
      }, function () { /* A host that does not speak the protocol: the embedded data (if any) stays drawn. */ });
  }
})();
`;

/** The stylesheet every app shares; hosts' SEP-1865 theme variables override the defaults. */
export const APP_KIT_STYLE = `
:root { color-scheme: light dark; --fg: var(--color-text-primary, #171717); --muted: var(--color-text-secondary, #525252); --bg: var(--color-background-primary, #ffffff); --line: var(--color-border-primary, #d4d4d4); font-family: var(--font-sans, system-ui, sans-serif); }
[data-theme="dark"] { --fg: var(--color-text-primary, #fafafa); --muted: var(--color-text-secondary, #a3a3a3); --bg: var(--color-background-primary, #171717); --line: var(--color-border-primary, #404040); }
body { margin: 0; padding: 12px; color: var(--fg); background: var(--bg); font-size: 14px; line-height: 1.4; }
h1 { font-size: 16px; margin: 0 0 8px; } h2 { font-size: 14px; margin: 14px 0 6px; }
.muted, .tick { color: var(--muted); fill: var(--muted); font-size: 11px; }
.cell { font-size: 10px; fill: var(--fg); }
.chart { width: 100%; max-width: 640px; height: auto; display: block; }
.axis { stroke: var(--line); } .track { fill: var(--line); opacity: 0.4; } .bar.ok { fill: #059669; } .bar.bad { fill: #dc2626; } .threshold { stroke: var(--fg); stroke-width: 2; }
.gauge { width: 220px; height: 18px; vertical-align: middle; }
.legend { list-style: none; padding: 0; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
table { border-collapse: collapse; font-size: 12px; margin: 4px 0; } th, td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: left; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
.table-wrap { overflow-x: auto; max-width: 100%; }
.chart-data summary { cursor: pointer; width: max-content; }
.visually-hidden { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px; font-weight: 600; }
.pass { background: #d1fae5; color: #065f46; } .fail { background: #fee2e2; color: #991b1b; } .insufficient { background: #e5e5e5; color: #404040; }
.error { color: #dc2626; }
`;
