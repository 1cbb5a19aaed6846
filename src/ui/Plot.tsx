/**
 * A line plot drawn with uPlot (small, canvas-based, fast): one per curve family of the faithfulness
 * panel. The canvas is what the exported PNG takes (`plotPicture`); the values themselves are in the
 * tables beside the plots, which the keyboard and screen readers reach.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ExtraPanel } from '../protocol';

export interface PlotSeries {
  label: string;
  values: number[];
  colour: string;
  /** Reference maps: dashed. */
  dashed?: boolean;
}

export interface PlotProps {
  /** Names the plot for tests and for the exported picture. */
  id: string;
  title: string;
  x: number[];
  xLabel: string;
  yLabel: string;
  series: PlotSeries[];
  /** Fixed y range (probabilities: 0 … 1). */
  yRange?: [number, number];
  width?: number;
  height?: number;
}

/** The uPlot instances on screen, by id (what the export reads). */
const mounted = new Map<string, { plot: uPlot; props: PlotProps }>();

export const SERIES_COLOURS = ['#5aa9ff', '#f3c058', '#6fd08c', '#ff6b6b', '#c792ea', '#4dd0e1', '#ff9e64', '#a3be8c'];
export const REFERENCE_COLOURS = ['#9098a4', '#d0d4da'];

export function Plot(props: PlotProps) {
  const host = useRef<HTMLDivElement | null>(null);
  const { id, x, series, width = 340, height = 200 } = props;
  const key = JSON.stringify([x, series, props.yRange, width, height]);
  useEffect(() => {
    if (!host.current) return;
    const options: uPlot.Options = {
      width,
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, y: props.yRange ? { range: props.yRange } : { auto: true } },
      axes: [
        { label: props.xLabel, stroke: '#9098a4', grid: { stroke: '#33373f' }, ticks: { stroke: '#33373f' } },
        { label: props.yLabel, stroke: '#9098a4', grid: { stroke: '#33373f' }, ticks: { stroke: '#33373f' } },
      ],
      series: [{ label: props.xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.colour, width: 2, dash: s.dashed ? [6, 4] : undefined, points: { show: false } }))],
    };
    const plot = new uPlot(options, [x, ...series.map((s) => s.values)], host.current);
    plot.root.querySelector('canvas')?.setAttribute('data-plot', id);
    mounted.set(id, { plot, props });
    return () => {
      plot.destroy();
      if (mounted.get(id)?.plot === plot) mounted.delete(id);
    };
    // The plot is rebuilt when its data change (key); the props in it are read then.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, key]);
  return <div className="plot" ref={host} data-testid={`plot-${id}`} role="img" aria-label={`${props.title}: the values are in the table below.`} />;
}

/**
 * The plot as it looks on screen, on the panel's dark background, with its legend drawn under it
 * (uPlot's legend is HTML): a picture for the exported PNG.
 */
function plotPicture(plot: uPlot, props: PlotProps): ExtraPanel['pixels'] | null {
  const source = plot.root.querySelector('canvas');
  if (!source || source.width === 0) return null;
  const legendRow = 16;
  const rows = Math.ceil(props.series.length / 2);
  const canvas = document.createElement('canvas');
  canvas.width = source.width;
  canvas.height = source.height + rows * legendRow + 6;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.fillStyle = '#1d2025';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(source, 0, 0);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  props.series.forEach((s, i) => {
    const x = 8 + (i % 2) * (canvas.width / 2);
    const y = source.height + 4 + Math.floor(i / 2) * legendRow + legendRow / 2;
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 2;
    ctx.setLineDash(s.dashed ? [6, 4] : []);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 18, y);
    ctx.stroke();
    ctx.fillStyle = '#e4e6ea';
    ctx.fillText(s.label, x + 24, y);
  });
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { width: data.width, height: data.height, data: data.data };
}

/** The plots on screen as pictures for the exported PNG, in the order they were drawn. */
export function plotPictures(): ExtraPanel[] {
  const out: ExtraPanel[] = [];
  for (const { plot, props } of mounted.values()) {
    const pixels = plotPicture(plot, props);
    if (pixels) out.push({ title: props.title, pixels });
  }
  return out;
}
