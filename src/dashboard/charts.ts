/** Inline SVG bar charts, drawn by hand: no script, no external file. */
import { type Html, html } from "./html.ts";

/** One bar: a label and one value per series, stacked bottom up. */
export interface Bar {
  label: string;
  values: readonly number[];
}

/** Options of barChart(). */
export interface BarChartOptions {
  /** Accessible name of the chart. */
  title: string;
  /** Series names, one per value of each bar; series i gets CSS class "s<i mod 6>". */
  series: readonly string[];
  /** How a value is written in tooltips and on the axis. */
  format: (value: number) => string;
}

const WIDTH = 560;
const HEIGHT = 190;
const LEFT = 60;
const BOTTOM = 22;
const TOP = 8;
/** Series colours in the stylesheet: .s0 … .s5. */
const SERIES_CLASSES = 6;

/** A stacked bar chart of `bars` with a tooltip per segment and the first, middle and last labels. */
export function barChart(bars: readonly Bar[], options: BarChartOptions): Html {
  const max = Math.max(0, ...bars.map((b) => sum(b.values)));
  const plotW = WIDTH - LEFT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const slot = bars.length ? plotW / bars.length : plotW;
  const scale = max > 0 ? plotH / max : 0;
  const rects = bars.map((bar, i) => {
    let y = TOP + plotH;
    return bar.values.map((value, s) => {
      const h = value * scale;
      y -= h;
      if (value <= 0) return "";
      const tip = `${bar.label} · ${options.series[s]}: ${options.format(value)}`;
      return html`
        <rect class="s${s % SERIES_CLASSES}" x="${fixed(LEFT + i * slot + slot * 0.1)}" y="${fixed(
          y,
        )}"
          width="${fixed(slot * 0.8)}" height="${fixed(h)}">
          <title>${tip}</title>
        </rect>
      `;
    });
  });
  const ticks = [0, Math.floor((bars.length - 1) / 2), bars.length - 1]
    .filter((i, n, all) => i >= 0 && all.indexOf(i) === n)
    .map((i) => {
      // The first and last labels line up with the plot's edges so that neither is cut off.
      const anchor = i === 0 ? "start" : i === bars.length - 1 ? "end" : "middle";
      const x = i === 0
        ? LEFT + slot * 0.1
        : i === bars.length - 1
        ? WIDTH
        : LEFT + (i + 0.5) * slot;
      return html`<text class="tick" x="${fixed(x)}" y="${HEIGHT - 6}" text-anchor="${anchor}">${
        bars[i].label
      }</text>`;
    });
  return html`
    <svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img"
      aria-label="${options.title}"><title>${options.title}</title>
        <line class="axis" x1="${LEFT}" y1="${TOP + plotH}" x2="${WIDTH}" y2="${TOP + plotH}"/>
        <line class="grid" x1="${LEFT}" y1="${TOP}" x2="${WIDTH}" y2="${TOP}"/>
        <text class="tick" x="${LEFT - 6}" y="${TOP + 4}" text-anchor="end">${options.format(
          max,
        )}</text>
        <text class="tick" x="${LEFT - 6}" y="${TOP + plotH}" text-anchor="end">${options.format(
          0,
        )}</text>
        ${rects}${ticks}${max === 0 && html`
          <text class="empty" x="${LEFT + plotW / 2}"
            y="${TOP + plotH / 2}" text-anchor="middle">nothing in this period</text>
        `}
      </svg>
  `;
}

/** The chart's legend: one swatch per series. */
export function legend(series: readonly string[]): Html {
  return html`<ul class="legend">${
    series.map((name, i) =>
      html`<li><span class="swatch s${i % SERIES_CLASSES}"></span>${name}</li>`
    )
  }</ul>`;
}

/** One part of a share bar. */
export interface Share {
  /** CSS class of the part, e.g. "done" or "failed". */
  className: string;
  value: number;
  label: string;
}

/** A thin bar split by share, one part per non-zero value, each with a tooltip. */
export function shareBar(parts: readonly Share[]): Html {
  const total = sum(parts.map((p) => p.value));
  let x = 0;
  const rects = parts.map((part) => {
    if (part.value <= 0 || total === 0) return "";
    const w = (part.value / total) * 100;
    x += w;
    return html`
      <rect class="${part.className}" x="${fixed(x - w)}" y="0" width="${fixed(w)}"
        height="6">
        <title>${part.label}</title>
      </rect>
    `;
  });
  return html`
    <svg class="progress" viewBox="0 0 100 6" preserveAspectRatio="none"
      aria-hidden="true"><rect class="rest" x="0" y="0" width="100" height="6"/>${rects}</svg>
  `;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function fixed(n: number): string {
  return n.toFixed(1);
}
