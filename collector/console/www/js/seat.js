// Seat: current state (policy version, internet, USB devices seen, firmware, last seen), its chain
// verification and its timeline.
import { api, clear, el, formatTime, showError, startPage, t } from './common.js';
import { pagedTimeline } from './paged.js';
import { wireDetailDialog } from './timeline.js';

function facts(pairs) {
  return pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]);
}

function render(s) {
  const st = s.state || {};
  const fw = st.firmware;
  clear(document.getElementById('state')).append(
    ...facts([
      [t('seat.last_seen'), formatTime(s.last_seen_ms)],
      [t('seat.policy_version'), String(st.policy_version ?? '—')],
      [t('seat.internet'), el('span', { class: `net net-${st.internet}`, id: 'internet' }, t(`net.${st.internet || 'unknown'}`))],
      [t('seat.firmware'), fw ? `${fw.result} · ${formatTime(fw.time_ms)}` : t('seat.firmware_none')],
    ]),
  );
  const devices = (st.usb_devices || []);
  clear(document.getElementById('usb')).append(
    devices.length
      ? el('table', { class: 'list', id: 'usb-table' },
          el('thead', {}, el('tr', {}, ['col.vendor', 'col.product', 'col.serial', 'col.decision', 'col.time'].map((k) => el('th', {}, t(k))))),
          el('tbody', {}, devices.map((d) => el('tr', {}, [d.vendor, d.product, d.serial, d.decision, formatTime(d.time_ms)].map((v) => el('td', {}, v ?? '—'))))))
      : el('p', { class: 'empty' }, t('common.none')),
  );
  const c = s.chain || {};
  const findings = c.findings || [];
  clear(document.getElementById('chain')).append(
    el('p', { class: `chain chain-${c.status || 'unknown'}`, id: 'chain-status' }, t(`chain.${c.status || 'unknown'}`), ' · ', t('seat.head_seq', { seq: c.head_seq ?? '—' })),
    findings.length
      ? el('ul', { class: 'findings' }, findings.map((f) =>
          el('li', { class: f.resolved ? 'resolved' : 'open' }, `${f.kind} ${f.seq_from}–${f.seq_to}: ${f.detail}${f.resolved ? ` (${t('seat.resolved')})` : ''}`)))
      : el('p', { class: 'muted' }, t('seat.no_findings')),
  );
}

async function main() {
  await startPage('');
  wireDetailDialog();
  const id = new URLSearchParams(location.search).get('id') || '';
  document.getElementById('seat-id').textContent = id;
  try {
    render(await api(`/api/seat?id=${encodeURIComponent(id)}`));
  } catch (e) {
    showError(document.getElementById('message'), e);
    return;
  }
  await pagedTimeline(document.getElementById('timeline'), { seat: id }, ['time', 'user', 'kind', 'severity', 'outcome', 'summary']);
  document.body.dataset.loaded = 'seat';
}

main();
