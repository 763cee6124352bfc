// Events: the filter form mirrors the URL (?from&to&seat&user&kind&severity&outcome&q&after), so
// a filtered view can be shared; keyset paging; Export CSV/NDJSON of exactly the current filter,
// each with its signed manifest.
import { queryString, rfc3339ToLocalInput, localInputToRfc3339, startPage, t, zoneOffset } from './common.js';
import { KINDS, renderTimeline, wireDetailDialog } from './timeline.js';

const FIELDS = ['from', 'to', 'seat', 'user', 'kind', 'severity', 'outcome', 'q'];
const TIME_FIELDS = new Set(['from', 'to']);
// Cursors of the pages before this one (for "newer"); kept in history.state.
let back = [];

function filterFromUrl() {
  const p = new URLSearchParams(location.search);
  const f = {};
  for (const k of FIELDS) if (p.get(k)) f[k] = p.get(k);
  return { filter: f, after: p.get('after') || '' };
}

function fillForm(filter) {
  for (const k of FIELDS) {
    const input = document.getElementById(`f-${k}`);
    input.value = TIME_FIELDS.has(k) ? rfc3339ToLocalInput(filter[k] || '') : filter[k] || '';
  }
}

function filterFromForm() {
  const f = {};
  for (const k of FIELDS) {
    const v = document.getElementById(`f-${k}`).value.trim();
    if (v) f[k] = TIME_FIELDS.has(k) ? localInputToRfc3339(v) : v;
  }
  return f;
}

function randomId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// The export links download exactly the filter shown; each click gets a fresh export id so the
// manifest of that download can be fetched afterwards.
function wireExports(filter) {
  for (const format of ['csv', 'ndjson']) {
    const link = document.getElementById(`export-${format}`);
    const fresh = () => {
      link.dataset.exportId = randomId();
      link.href = `/api/export${queryString({ ...filter, format, export_id: link.dataset.exportId })}`;
    };
    fresh();
    link.onclick = () => {
      const id = link.dataset.exportId;
      const manifest = document.getElementById('export-manifest');
      manifest.href = `/api/export-manifest${queryString({ id })}`;
      manifest.dataset.exportId = id;
      manifest.hidden = false;
      const note = document.getElementById('export-note');
      note.textContent = t('events.export_started', { format: format.toUpperCase(), id });
      note.hidden = false;
      setTimeout(fresh, 0);  // after the browser has taken this href
    };
  }
}

async function load(after, { push = true } = {}) {
  const { filter } = filterFromUrl();
  const url = `/console/events.html${queryString({ ...filter, after })}`;
  if (push) history.pushState({ back }, '', url);
  wireExports(filter);
  await renderTimeline(document.getElementById('timeline'), filter, {
    after,
    history: back,
    onPage: (cursor, direction) => {
      if (direction === 'forward') back = [...back, after];
      else if (direction === 'back') back = back.slice(0, -1);
      else back = [];
      load(cursor);
    },
  });
  document.body.dataset.loaded = 'events';
}

async function main() {
  await startPage('events');
  wireDetailDialog();
  document.getElementById('kinds').append(...KINDS.map((k) => Object.assign(document.createElement('option'), { value: k })));
  document.getElementById('zone').textContent = t('common.zone', { offset: zoneOffset(new Date()) });
  const { filter, after } = filterFromUrl();
  fillForm(filter);
  back = (history.state && history.state.back) || [];
  document.getElementById('filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    back = [];
    history.pushState({ back }, '', `/console/events.html${queryString(filterFromForm())}`);
    load('', { push: false });
  });
  document.getElementById('reset').addEventListener('click', () => {
    fillForm({});
    back = [];
    history.pushState({ back }, '', '/console/events.html');
    load('', { push: false });
  });
  window.addEventListener('popstate', (ev) => {
    back = (ev.state && ev.state.back) || [];
    const now = filterFromUrl();
    fillForm(now.filter);
    load(now.after, { push: false });
  });
  await load(after, { push: false });
}

main();
