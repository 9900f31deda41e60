import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: number[];
  color: string;
}

/** A line chart (uPlot) with the same figures in a table beside it: the table is what screen
 * readers and copy-paste use; the drawing is hidden from assistive technology. */
export function ChartWithTable({
  title,
  labels,
  series,
  quietRows,
}: {
  title: string;
  labels: string[];
  series: Series[];
  /** Leave rows whose values are all 0 out of the table (said under it); the chart keeps them. */
  quietRows?: string;
}) {
  const rows = labels.map((l, i) => ({ l, i })).filter(({ i }) => !quietRows || series.some((s) => s.values[i] !== 0));
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || labels.length === 0) return;
    const width = Math.max(200, el.clientWidth || 560);
    const plot = new uPlot(
      {
        width,
        height: 200,
        scales: { x: { time: false } },
        axes: [{ values: (_u, ticks) => ticks.map((i) => labels[Math.round(i)] ?? '') }, {}],
        series: [{ label: 'Period', value: (_u, i) => (i == null ? '' : labels[i] ?? '') }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
      },
      [labels.map((_, i) => i), ...series.map((s) => s.values)],
      el,
    );
    // Follows its box (a phone turned, a window resized).
    const resize = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (w !== plot.width) plot.setSize({ width: w, height: 200 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [labels, series]);

  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="chart-grid">
        <div ref={box} aria-hidden="true" className="chart-box" />
        <div className="table-wrap">
          <table>
            <caption className="sr-only">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Period</th>
                {series.map((s) => (
                  <th scope="col" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 ? (
                <tr>
                  <td colSpan={series.length + 1}>No data yet</td>
                </tr>
              ) : (
                rows.map(({ l, i }) => (
                  <tr key={l}>
                    <th scope="row">{l}</th>
                    {series.map((s) => (
                      <td key={s.label}>{s.values[i]}</td>
                    ))}
                  </tr>
                ))
              )}
            </tbody>
          </table>
          {quietRows && <small className="muted">{quietRows}</small>}
        </div>
      </div>
    </figure>
  );
}
