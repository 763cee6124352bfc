// Overview: violations per day by kind (chart), top seats and users, silent seats, seats behind
// on policy, chain status. Days are counted in the viewer's time zone.
import { api, clear, el, formatTime, personLink, seatLink, showError, startPage, t } from './common.js';
import { stackedBars } from './chart.js';

function table(headers, rows, id) {
  if (!rows.length) return el('p', { class: 'empty' }, t('common.none'));
  return el(
    'table',
    { class: 'list', id },
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c) => el('td', {}, c))))),
  );
}

function render(o) {
  const { svg, colors } = stackedBars(o.days, { label: (date) => date.slice(5) });
  svg.setAttribute('aria-label', t('overview.chart'));
  clear(document.getElementById('chart')).append(svg);
  clear(document.getElementById('legend')).append(
    ...[...colors].map(([kind, color]) => {
      const swatch = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      swatch.setAttribute('viewBox', '0 0 10 10');
      swatch.setAttribute('class', 'swatch');
      const r = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      for (const [k, v] of Object.entries({ width: 10, height: 10, fill: color })) r.setAttribute(k, v);
      swatch.append(r);
      const link = el('a', { href: `/console/events.html?kind=${encodeURIComponent(kind)}` }, kind);
      return el('li', {}, swatch, link);
    }),
  );
  if (!colors.size) document.getElementById('legend').append(el('li', { class: 'empty' }, t('overview.no_violations')));

  clear(document.getElementById('top-seats')).append(
    table([t('col.seat'), t('col.count')], o.top_seats.map((s) => [seatLink(s.seat), String(s.count)]), 'top-seats-table'),
  );
  clear(document.getElementById('top-users')).append(
    table([t('col.user'), t('col.count')], o.top_users.map((u) => [personLink(u.user), String(u.count)]), 'top-users-table'),
  );
  clear(document.getElementById('silent')).append(
    table([t('col.seat'), t('col.last_seen')], o.silent_seats.map((s) => [seatLink(s.seat), formatTime(s.last_seen_ms)]), 'silent-table'),
  );
  clear(document.getElementById('behind')).append(
    table(
      [t('col.seat'), t('col.published'), t('col.applied')],
      o.behind_on_policy.map((s) => [seatLink(s.seat), String(s.published ?? '—'), String(s.applied ?? '—')]),
      'behind-table',
    ),
  );
  const c = o.chains;
  clear(document.getElementById('chains')).append(
    el(
      'ul',
      { class: 'chain-status', id: 'chain-status' },
      el('li', { class: 'ok' }, t('overview.chains_ok', { n: c.ok })),
      el('li', { class: c.gaps.length ? 'warn' : 'ok' }, t('overview.chains_gaps', { n: c.gaps.length }), ' ', ...c.gaps.map(seatLink)),
      el('li', { class: c.broken.length ? 'bad' : 'ok' }, t('overview.chains_broken', { n: c.broken.length }), ' ', ...c.broken.map(seatLink)),
    ),
  );
}

async function main() {
  await startPage('overview');
  const offset = -new Date().getTimezoneOffset();
  try {
    render(await api(`/api/overview?days=14&tz_offset_min=${offset}`));
    document.body.dataset.loaded = 'overview';
  } catch (e) {
    showError(document.getElementById('message'), e);
  }
}

main();
