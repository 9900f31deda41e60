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
export function ChartWithTable({ title, labels, series }: { title: string; labels: string[]; series: Series[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || labels.length === 0) return;
    const width = Math.max(260, Math.min(560, el.clientWidth || 560));
    const plot = new uPlot(
      {
        width,
        height: 200,
        scales: { x: { time: false } },
        axes: [{ values: (_u, ticks) => ticks.map((i) => labels[Math.round(i)] ?? '') }, {}],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
      },
      [labels.map((_, i) => i), ...series.map((s) => s.values)],
      el,
    );
    return () => plot.destroy();
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
              {labels.length === 0 ? (
                <tr>
                  <td colSpan={series.length + 1}>No data yet</td>
                </tr>
              ) : (
                labels.map((l, i) => (
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
        </div>
      </div>
    </figure>
  );
}
