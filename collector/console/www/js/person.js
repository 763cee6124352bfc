// Person: one user's events across all seats, the seats they used and the kinds of their events.
import { api, clear, el, formatTime, queryString, seatLink, showError, startPage, t } from './common.js';
import { pagedTimeline } from './paged.js';
import { wireDetailDialog } from './timeline.js';

function render(p) {
  clear(document.getElementById('person-seats')).append(
    p.seats.length
      ? el('table', { class: 'list', id: 'person-seats-table' },
          el('thead', {}, el('tr', {}, ['col.seat', 'col.count', 'col.last'].map((k) => el('th', {}, t(k))))),
          el('tbody', {}, p.seats.map((s) => el('tr', {}, el('td', {}, seatLink(s.seat)), el('td', {}, String(s.count)), el('td', {}, formatTime(s.last_ms))))))
      : el('p', { class: 'empty' }, t('common.none')),
  );
  const kinds = Object.entries(p.kinds).sort((a, b) => b[1] - a[1]);
  clear(document.getElementById('person-kinds')).append(
    kinds.length
      ? el('table', { class: 'list', id: 'person-kinds-table' },
          el('thead', {}, el('tr', {}, ['col.kind', 'col.count'].map((k) => el('th', {}, t(k))))),
          el('tbody', {}, kinds.map(([k, n]) => el('tr', {},
            el('td', {}, el('a', { href: `/console/events.html${queryString({ user: p.name, kind: k })}` }, k)),
            el('td', {}, String(n))))))
      : el('p', { class: 'empty' }, t('common.none')),
  );
}

async function main() {
  await startPage('');
  wireDetailDialog();
  const name = new URLSearchParams(location.search).get('name') || '';
  document.getElementById('person-name').textContent = name;
  try {
    render(await api(`/api/person?name=${encodeURIComponent(name)}`));
  } catch (e) {
    showError(document.getElementById('message'), e);
    return;
  }
  await pagedTimeline(document.getElementById('timeline'), { user: name }, ['time', 'seat', 'kind', 'severity', 'outcome', 'summary']);
  document.body.dataset.loaded = 'person';
}

main();
