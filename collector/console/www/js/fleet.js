// Fleet: groups with their internet state, grants with expiry, publish status. Admins close or
// open a group's internet with a required ticket; auditors see the same page read-only.
import { api, ApiError, clear, el, formatTime, showError, startPage, t } from './common.js';

let me;

function actionCell(g) {
  if (me.role !== 'admin') return el('span', { class: 'muted' }, t('fleet.no_action'));
  const action = g.internet === 'closed' ? 'open' : 'close';
  const ticket = el('input', { name: 'ticket', class: 'ticket', required: true, placeholder: t('fleet.ticket'), 'aria-label': t('fleet.ticket'), id: `ticket-${g.name}` });
  const until = action === 'close'
    ? el('input', { name: 'until', class: 'until', placeholder: t('fleet.until_hint'), 'aria-label': t('fleet.until'), id: `until-${g.name}` })
    : null;
  const button = el('button', { type: 'submit', class: action === 'close' ? 'danger' : '', id: `${action}-${g.name}` }, t(`fleet.${action}`));
  const status = el('span', { class: 'row-status', role: 'status' });
  const form = el('form', { class: 'group-action', dataset: { group: g.name } }, ticket, until, button, status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!ticket.value.trim()) {
      status.textContent = t('fleet.ticket_required');
      return;
    }
    button.disabled = true;
    const body = { group: g.name, action, ticket: ticket.value.trim() };
    if (until && until.value.trim()) body.until = until.value.trim();
    try {
      const r = await api('/api/fleet/net', { method: 'POST', body });
      status.textContent = t('fleet.done', { version: r.version });
      await load();
    } catch (e) {
      status.textContent = e instanceof ApiError ? t('error.api', { status: e.status, message: e.message }) : String(e);
      button.disabled = false;
    }
  });
  return form;
}

function render(f) {
  const groups = f.groups || [];
  clear(document.getElementById('groups')).append(
    groups.length
      ? el('table', { class: 'list', id: 'groups-table' },
          el('thead', {}, el('tr', {}, ['col.group', 'col.seats', 'col.internet', 'col.until', 'col.ticket', 'col.action'].map((k) => el('th', {}, t(k))))),
          el('tbody', {}, groups.map((g) => el('tr', { dataset: { group: g.name } },
            el('td', {}, g.name),
            el('td', {}, String(g.seats)),
            el('td', {}, el('span', { class: `net net-${g.internet}`, id: `internet-${g.name}` }, t(`net.${g.internet}`))),
            el('td', {}, g.closed_until_ms ? formatTime(g.closed_until_ms) : '—'),
            el('td', {}, g.ticket || '—'),
            el('td', {}, actionCell(g))))))
      : el('p', { class: 'empty' }, t('common.none')),
  );
  const grants = f.grants || [];
  clear(document.getElementById('grants')).append(
    grants.length
      ? el('table', { class: 'list', id: 'grants-table' },
          el('thead', {}, el('tr', {}, ['col.ticket', 'col.kind', 'col.scope', 'col.until'].map((k) => el('th', {}, t(k))))),
          el('tbody', {}, grants.map((g) => el('tr', {}, [g.ticket, g.kind, g.scope, formatTime(g.until_ms)].map((v) => el('td', {}, v ?? '—'))))))
      : el('p', { class: 'empty' }, t('fleet.no_grants')),
  );
  const p = f.publish || {};
  clear(document.getElementById('publish')).append(
    ...[
      [t('fleet.version'), String(p.version ?? '—')],
      [t('fleet.published'), formatTime(p.published_ms)],
      [t('fleet.acked'), String(p.acked ?? '—')],
      [t('fleet.behind'), String(p.behind ?? '—')],
    ].flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
  );
}

async function load() {
  try {
    render(await api('/api/fleet'));
    document.body.dataset.loaded = 'fleet';
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      clear(document.getElementById('message')).append(el('p', { class: 'note', id: 'no-fleet' }, t('fleet.none')));
      document.body.dataset.loaded = 'fleet';
      return;
    }
    showError(document.getElementById('message'), e);
  }
}

async function main() {
  me = await startPage('fleet');
  document.getElementById('readonly-note').hidden = me.role === 'admin';
  await load();
}

main();
