// Shared pieces: the htm binding, a data hook over tool calls, tables, a pager, charts and messages.
import { h } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import uPlot from 'uplot';
import { call } from './api.js';

export const html = htm.bind(h);

/**
 * Runs `tool` with `args` and keeps its result: `{data, error, loading, unavailable, reload}`.
 * `pollMs` refreshes it while the page is open. With `session`, a tool the key may not call (absent
 * from the session's tool list) is never called and comes back as `unavailable`.
 */
export function useTool(tool, args, { session, pollMs = 0, deps = [] } = {}) {
  const unavailable = tool && session && !session.tools.includes(tool) ? tool : undefined;
  const active = tool && !unavailable ? tool : null;
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const alive = useRef(true);
  const load = useCallback(async () => {
    if (!active) return;
    try {
      const data = await call(active, args ?? {});
      if (alive.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (alive.current) setState((old) => ({ data: old.data, error, loading: false }));
    }
  }, [active, JSON.stringify(args ?? {})]);
  useEffect(() => {
    alive.current = true;
    setState({ data: null, error: null, loading: Boolean(active) });
    void load();
    const timer = active && pollMs > 0 ? setInterval(() => void load(), pollMs) : undefined;
    return () => {
      alive.current = false;
      if (timer) clearInterval(timer);
    };
  }, [load, pollMs, ...deps]);
  return { ...state, unavailable, reload: load };
}

/** What a tool's state shows: the key cannot call it, its refusal, a loading line, or `children(data)`. */
export function Show({ state, children }) {
  if (state.unavailable) return html`<p class="muted">Your key cannot call <code>${state.unavailable}</code>; this part is hidden.</p>`;
  if (state.error && !state.data) return html`<${ErrorBox} error=${state.error} />`;
  if (!state.data) return state.loading ? html`<${Loading} />` : null;
  return children(state.data);
}

export function ErrorBox({ error }) {
  if (!error) return null;
  const refused = error.code === 'ANVIL_E_NOT_FOUND' ? 'Not found (or not in your project).' : '';
  return html`<div class="error" role="alert"><strong>${error.code ?? 'Error'}</strong> ${refused} ${error.message}</div>`;
}

export function Loading({ what }) {
  return html`<p class="muted" aria-live="polite">Loading ${what ?? ''}…</p>`;
}

export function fmt(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.map(fmt).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  const text = String(value);
  // ISO 8601, or Postgres's `2026-01-02 03:04:05.6+00` as some tools pass it through.
  if (!/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(text)) return text;
  const date = new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  return Number.isNaN(date.getTime()) ? text : date.toLocaleString();
}

/** columns: [{key, label, render?(row)}]. */
export function Table({ caption, columns, rows, empty }) {
  if (!rows || rows.length === 0) return html`<p class="muted">${empty ?? 'Nothing yet.'}</p>`;
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption}>
    <table>
      <caption>${caption}</caption>
      <thead><tr>${columns.map((column) => html`<th scope="col">${column.label}</th>`)}</tr></thead>
      <tbody>
        ${rows.map((row) => html`<tr>${columns.map((column) => html`<td data-label=${column.label}>${column.render ? column.render(row) : fmt(row[column.key])}</td>`)}</tr>`)}
      </tbody>
    </table>
  </div>`;
}

export function KeyValues({ entries }) {
  return html`<dl class="kv">${entries.map(([key, value]) => html`<dt>${key}</dt><dd>${value}</dd>`)}</dl>`;
}

/** Cursor paging: the server hands out `next` cursors; we keep the trail to go back. */
export function usePager() {
  const [trail, setTrail] = useState([undefined]);
  const cursor = trail[trail.length - 1];
  return {
    cursor,
    page: trail.length,
    next: (nextCursor) => setTrail([...trail, nextCursor]),
    back: () => setTrail(trail.length > 1 ? trail.slice(0, -1) : trail),
    reset: () => setTrail([undefined]),
  };
}

/** Previous / next page buttons over a usePager trail; `label` names the list when a page has several, `ordered: 'name'` for lists in name order. */
export function Pager({ pager, nextCursor, label = 'Pages', ordered = 'time' }) {
  const [back, forward] = ordered === 'time' ? ['← Newer', 'Older →'] : ['← Previous', 'Next →'];
  return html`<nav class="pager" aria-label=${label}>
    <button type="button" onClick=${pager.back} disabled=${pager.page <= 1}>${back}</button>
    <span>Page ${pager.page}</span>
    <button type="button" onClick=${() => pager.next(nextCursor)} disabled=${!nextCursor}>${forward}</button>
  </nav>`;
}

const PALETTE = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989'];

/**
 * A line chart of series [{name, points: [{x, y}]}] on a shared x axis (steps or times). The
 * points arrive downsampled by the tool; the chart redraws in place when they change.
 */
export function LineChart({ title, series, xLabel = 'step', time = false, height = 240, xRange }) {
  const box = useRef(null);
  const plot = useRef(null);
  // A fixed x window (e.g. the last hour), read at each redraw: a single point must not stretch the axis over years.
  const range = useRef(xRange);
  range.current = xRange;
  const xs = [...new Set(series.flatMap((one) => one.points.map((point) => point.x)))].sort((a, b) => a - b);
  const data = [xs, ...series.map((one) => {
    const byX = new Map(one.points.map((point) => [point.x, point.y]));
    return xs.map((x) => (byX.has(x) ? byX.get(x) : null));
  })];
  const shape = series.map((one) => one.name).join('|');
  useEffect(() => {
    if (!box.current) return undefined;
    const width = Math.max(280, box.current.clientWidth || 600);
    const options = {
      title,
      width,
      height,
      // Only charts given a window fix their x range; the others keep uPlot's own (which pads a single point).
      scales: { x: { time, ...(range.current ? { range: (_self, min, max) => range.current ?? [min, max] } : {}) } },
      axes: [{ label: xLabel }, { size: 64 }],
      series: [{ label: xLabel }, ...series.map((one, index) => ({ label: one.name, stroke: PALETTE[index % PALETTE.length], width: 2, spanGaps: true }))],
    };
    plot.current = new uPlot(options, data, box.current);
    const resize = () => plot.current?.setSize({ width: Math.max(280, box.current?.clientWidth || width), height });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, title]);
  useEffect(() => {
    plot.current?.setData(data);
  });
  const total = series.reduce((sum, one) => sum + one.points.length, 0);
  return html`<figure class="chart">
    <div ref=${box} role="img" aria-label=${`${title}: ${series.map((one) => `${one.name} (${one.points.length} points)`).join(', ')}`} data-points=${total}></div>
    <${ChartData} title=${title} xLabel=${xLabel} time=${time} names=${series.map((one) => one.name)} data=${data} />
  </figure>`;
}

/**
 * The chart's points as a table, for screen readers and anyone who wants the numbers: a "Show data"
 * disclosure whose table is captioned with the chart's title. The rows are rendered only while it is
 * open, so a live chart costs no hidden DOM and a closed one adds no table to the page.
 */
export function ChartData({ title, xLabel, time, names, data }) {
  const [open, setOpen] = useState(false);
  const [xs, ...columns] = data;
  const rows = open ? xs.map((x, index) => ({ x, values: columns.map((column) => column[index]) })) : [];
  return html`<details class="chart-data" onToggle=${(event) => setOpen(event.currentTarget.open)}>
    <summary>Show data<span class="visually-hidden">: ${title}</span></summary>
    ${open ? html`<${Table} caption=${title} rows=${rows} empty="No points yet."
      columns=${[
        { key: 'x', label: xLabel, render: (row) => (time ? new Date(row.x * 1000).toLocaleString() : fmt(row.x)) },
        ...names.map((name, index) => ({ key: name, label: name, render: (row) => fmt(row.values[index]) })),
      ]} />` : null}
  </details>`;
}

/** A button that runs `action`, shows it is busy, and reports what came of it. */
export function ActionButton({ label, action, confirmText, kind = '', onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async () => {
    if (confirmText && !window.confirm(confirmText)) return;
    setBusy(true);
    setError(null);
    try {
      const result = await action();
      onDone?.(result);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="action"><button type="button" class=${kind} onClick=${run} disabled=${busy} aria-busy=${busy}>${busy ? `${label}…` : label}</button>${error ? html`<${ErrorBox} error=${error} />` : null}</span>`;
}

export function StateBadge({ state }) {
  return html`<span class=${`badge state-${state}`}>${state}</span>`;
}
