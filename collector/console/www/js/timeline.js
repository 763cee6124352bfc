// A page of events (newest first) with keyset paging and the full JSON of a row on click; used
// by the events, seat and person pages.
import { api, clear, el, formatTime, personLink, queryString, seatLink, showError, t } from './common.js';

export const KINDS = [
  'usb.blocked', 'usb.storage_detected', 'usb.exception_used', 'usb.exception_expired',
  'net.egress_denied', 'net.inbound_denied', 'net.forward_denied', 'net.dns_denied', 'net.tamper',
  'net.address_changed', 'net.route_changed', 'net.interface_added', 'net.closed', 'net.opened',
  'policy.applied', 'policy.rejected', 'firmware.attestation',
];

async function showDetail(e) {
  const dialog = document.getElementById('detail');
  const pre = document.getElementById('detail-json');
  pre.textContent = t('common.loading');
  if (!dialog.open) dialog.showModal();
  try {
    const d = await api(`/api/event${queryString({ seat: e.seat, seq: e.seq })}`);
    pre.textContent = JSON.stringify(d, null, 2);
  } catch (err) {
    pre.textContent = err.message;
  }
}

export function wireDetailDialog() {
  const dialog = document.getElementById('detail');
  document.getElementById('detail-close').addEventListener('click', () => dialog.close());
}

// filter: the API filter parameters; target: the element to fill. `cursor` (URL param "after")
// is the page's keyset cursor; onPage(after) is called to move (so the caller can mirror it in
// the URL). Returns the API answer.
export async function renderTimeline(target, filter, { after = '', onPage, limit = 50, columns = ['time', 'seat', 'user', 'kind', 'severity', 'outcome', 'summary'], history = [] } = {}) {
  clear(target).append(el('p', { class: 'muted' }, t('common.loading')));
  let page;
  try {
    page = await api(`/api/events${queryString({ ...filter, limit, after })}`);
  } catch (err) {
    showError(target, err);
    return null;
  }
  const cells = {
    time: (e) => formatTime(e.time_ms),
    seat: (e) => seatLink(e.seat),
    user: (e) => personLink(e.user),
    kind: (e) => e.kind,
    severity: (e) => el('span', { class: `sev sev-${e.severity}` }, e.severity),
    outcome: (e) => e.outcome,
    summary: (e) => e.summary || '',
  };
  const rows = page.events.map((e) => {
    const tr = el('tr', { class: 'event-row', tabindex: 0, dataset: { seat: e.seat, seq: String(e.seq) } },
      columns.map((c) => el('td', { class: `c-${c}` }, cells[c](e))));
    const open = (ev) => {
      if (ev.target.closest('a')) return;  // the seat/person links go to their pages
      showDetail(e);
    };
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (ev) => ev.key === 'Enter' && open(ev));
    return tr;
  });
  const table = page.events.length
    ? el('table', { class: 'list events', id: 'events-table' },
        el('thead', {}, el('tr', {}, columns.map((c) => el('th', { class: `c-${c}` }, t(`col.${c}`))))),
        el('tbody', {}, rows))
    : el('p', { class: 'empty', id: 'no-events' }, t('events.none'));
  const newer = el('button', { type: 'button', class: 'secondary', id: 'page-newer', disabled: !after }, t('events.newer'));
  const first = el('button', { type: 'button', class: 'secondary', id: 'page-first', disabled: !after }, t('events.newest'));
  const older = el('button', { type: 'button', class: 'secondary', id: 'page-older', disabled: !page.next }, t('events.older'));
  newer.addEventListener('click', () => onPage(history.length ? history[history.length - 1] : '', 'back'));
  first.addEventListener('click', () => onPage('', 'first'));
  older.addEventListener('click', () => onPage(page.next, 'forward'));
  const pager = el('div', { class: 'pager' }, first, newer,
    el('span', { class: 'muted', id: 'page-count' }, t('events.shown', { n: page.events.length })), older);
  clear(target).append(table, pager);
  return page;
}
