/**
 * Accessibility checks the browser tests run in the page (as functions: the dashboard's CSP refuses
 * string evaluation). This file is compiled without the DOM library, so it declares the little of
 * the DOM it reads.
 */
export interface PageElement {
  readonly labels?: { length: number } | null;
  readonly textContent: string | null;
  readonly outerHTML: string;
  getAttribute(name: string): string | null;
}
declare const document: {
  activeElement: PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
};

/** Controls a screen reader could not name: no label, no aria-label, no text. */
export const unnamedControls = () =>
  Array.from(document.querySelectorAll('input, button, select, textarea, a, summary'))
    .filter((element) => !(element.labels?.length || element.getAttribute('aria-label') || element.getAttribute('aria-labelledby') || element.textContent?.trim()))
    .map((element) => element.outerHTML.slice(0, 120));

/** The computed-style view of an element the contrast and focus checks below read (in the page). */
interface StyledElement {
  readonly tagName: string;
  readonly id: string;
  readonly classList: ArrayLike<string>;
  readonly parentElement: StyledElement | null;
  readonly childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
  closest(selector: string): StyledElement | null;
  checkVisibility(options: { opacityProperty: boolean; visibilityProperty: boolean }): boolean;
}
interface Style { color: string; backgroundColor: string; opacity: string; fontSize: string; fontWeight: string; outlineStyle: string; outlineWidth: string; boxShadow: string }
/**
 * WCAG 2.x contrast (1.4.3) of every visible element's own text against its effective background:
 * the nearest ancestor backgrounds composited until one is opaque (white under all, as the canvas
 * is). Needs 4.5:1, or 3:1 for large text (24 px, or bold from 18.66 px). Disabled controls are
 * exempt (WCAG's "inactive user interface component"); canvas drawings carry no DOM text. Returns
 * the offenders as "selector “text” ratio".
 */
export const lowContrast = () => {
  const view = globalThis as unknown as { getComputedStyle(element: StyledElement): Style };
  const root = document as unknown as { body: { querySelectorAll(selector: string): ArrayLike<StyledElement> } };
  type Rgba = [number, number, number, number];
  // Helpers as object methods: tsx names every `const f = () => …` through a `__name` helper the page does not have.
  const color = {
    parse(css: string): Rgba {
      const [r = 0, g = 0, b = 0, a = 1] = (css.match(/[\d.]+/g) ?? []).map(Number);
      return [r, g, b, css.startsWith('rgba') ? a : 1];
    },
    over(top: Rgba, below: Rgba): Rgba {
      return [0, 1, 2].map((i) => (top[i] as number) * top[3] + (below[i] as number) * (1 - top[3])).concat(1) as Rgba;
    },
    channel(value: number): number {
      return value / 255 <= 0.04045 ? value / 255 / 12.92 : ((value / 255 + 0.055) / 1.055) ** 2.4;
    },
    luminance([r, g, b]: Rgba): number {
      return 0.2126 * color.channel(r) + 0.7152 * color.channel(g) + 0.0722 * color.channel(b);
    },
    name(element: StyledElement): string {
      return `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${Array.from(element.classList).map((one) => `.${one}`).join('')}`;
    },
  };
  const offenders: string[] = [];
  for (const element of Array.from(root.body.querySelectorAll('*'))) {
    const text = Array.from(element.childNodes).filter((node) => node.nodeType === 3).map((node) => node.textContent ?? '').join('').trim();
    if (!text || element.closest(':disabled, [aria-disabled="true"], canvas, script, style, noscript')) continue;
    if (!element.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    const style = view.getComputedStyle(element);
    const layers: Rgba[] = [];
    let opacity = 1;
    for (let at: StyledElement | null = element; at; at = at.parentElement) {
      const own = view.getComputedStyle(at);
      opacity *= Number(own.opacity);
      const background = color.parse(own.backgroundColor);
      if (background[3] > 0) layers.push(background);
      if (background[3] === 1) break;
    }
    const background = layers.reduceRight<Rgba>((below, top) => color.over(top, below), [255, 255, 255, 1]);
    const ink = color.parse(style.color);
    const foreground = color.over([ink[0], ink[1], ink[2], ink[3] * opacity], background);
    const [light, dark] = [color.luminance(foreground), color.luminance(background)].sort((a, b) => b - a) as [number, number];
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = Number.parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      const path = [element.parentElement?.parentElement, element.parentElement, element].filter((one): one is StyledElement => Boolean(one)).map((one) => color.name(one)).join(' > ');
      offenders.push(`${path} “${text.slice(0, 30)}” ${ratio.toFixed(2)}:1 (${style.color} on rgb(${background.slice(0, 3).map(Math.round).join(', ')}))`);
    }
  }
  return offenders;
};
/** What the focused element is, and whether it shows it: an outline or a box-shadow. */
export const focusShown = () => {
  const focused = document.activeElement as unknown as (StyledElement & PageElement) | null;
  if (!focused) return { text: null, inNav: false, indicator: false };
  const style = (globalThis as unknown as { getComputedStyle(element: StyledElement): Style }).getComputedStyle(focused);
  const outline = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0;
  return { text: focused.textContent, inNav: Boolean(focused.closest('header nav')), indicator: outline || style.boxShadow !== 'none' };
};
