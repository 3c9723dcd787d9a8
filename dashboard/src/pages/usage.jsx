// The usage chart: requests, errors and 429s per minute as lines in an
// inline SVG (no chart library), with the totals as text for everyone.

const series = [
  ['requests', 'Requests'],
  ['errors', 'Errors'],
  ['rate_limited', 'Rate limited (429)'],
];

// normalize accepts {series:[{minute, requests, errors, client_errors, rate_limited}]}
// or a bare array of such points.
export function normalize(data) {
  const pts = Array.isArray(data) ? data : data?.series || data?.points || [];
  return pts.map((p) => ({
    t: new Date(p.minute || p.at || p.time),
    requests: +p.requests || 0,
    errors: (+p.errors || 0) + (+p.client_errors || 0),
    rate_limited: +(p.rate_limited ?? p.limited ?? 0) || 0,
  }));
}

export function UsageChart({ data }) {
  const pts = normalize(data);
  const totals = Object.fromEntries(series.map(([k]) => [k, pts.reduce((s, p) => s + p[k], 0)]));
  const W = 600, H = 160, P = 24;
  const max = Math.max(1, ...pts.map((p) => p.requests), ...pts.map((p) => p.errors), ...pts.map((p) => p.rate_limited));
  const x = (i) => P + (pts.length <= 1 ? 0 : (i * (W - 2 * P)) / (pts.length - 1));
  const y = (v) => H - P - (v * (H - 2 * P)) / max;
  const summary = `Last ${pts.length} minutes: ${totals.requests} requests, ${totals.errors} errors, ${totals.rate_limited} rate limited.`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <line x1={P} y1={H - P} x2={W - P} y2={H - P} class="axis" />
        <line x1={P} y1={P} x2={P} y2={H - P} class="axis" />
        <text x={2} y={P + 4} class="tick">{max}</text>
        <text x={2} y={H - P} class="tick">0</text>
        {series.map(([k]) => (
          <polyline key={k} class={`line line-${k}`}
            points={pts.map((p, i) => `${x(i).toFixed(1)},${y(p[k]).toFixed(1)}`).join(' ')} />
        ))}
      </svg>
      <figcaption>
        <ul class="legend">
          {series.map(([k, label]) => (
            <li key={k}><span class={`swatch line-${k}`} aria-hidden="true" />{label}: <strong data-total={k}>{totals[k]}</strong></li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
