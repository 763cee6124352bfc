// A stacked bar chart in SVG (violations per day by kind), drawn without a library.
const SVG = 'http://www.w3.org/2000/svg';
const PALETTE = ['#c0392b', '#2874a6', '#d68910', '#1e8449', '#7d3c98', '#117a65', '#b9770e', '#5d6d7e'];

function node(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// days: [{date, kinds:{kind:n}}]; returns {svg, colors: Map kind -> colour}.
export function stackedBars(days, { width = 900, height = 260, label = (d) => d } = {}) {
  const kinds = [...new Set(days.flatMap((d) => Object.keys(d.kinds)))].sort();
  const colors = new Map(kinds.map((k, i) => [k, PALETTE[i % PALETTE.length]]));
  const totals = days.map((d) => Object.values(d.kinds).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const left = 48, bottom = 28, top = 10, right = 8;
  const plotW = width - left - right, plotH = height - top - bottom;
  const svg = node('svg', { viewBox: `0 0 ${width} ${height}`, class: 'bars', role: 'img' });
  // Horizontal grid lines with their counts.
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    svg.append(node('line', { x1: left, x2: width - right, y1: y, y2: y, class: 'grid' }));
    svg.append(node('text', { x: left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, String(Math.round((max * i) / 4))));
  }
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(2, slot * 0.7);
  days.forEach((d, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let y = top + plotH;
    for (const k of kinds) {
      const n = d.kinds[k] || 0;
      if (!n) continue;
      const h = (plotH * n) / max;
      y -= h;
      const rect = node('rect', { x, y, width: barW, height: h, fill: colors.get(k), class: 'bar' });
      rect.append(node('title', {}, `${label(d.date)} · ${k}: ${n}`));
      svg.append(rect);
    }
    // Label every day when there is room, else every other one.
    if (days.length <= 16 || i % 2 === 0)
      svg.append(node('text', { x: x + barW / 2, y: height - 8, class: 'axis', 'text-anchor': 'middle' }, label(d.date)));
  });
  return { svg, colors };
}
