// Shared by every page: the API client (session cookie + CSRF token), strings in the viewer's
// language, the page header (navigation, language switch, logout) and time formatting.
let me = null;
let strings = {};
let lang = 'en';

export const LANGS = ['en', 'zh-CN'];

// The strings of `code` (en or zh-CN) from /console/i18n/<code>.json.
export async function loadStrings(code) {
  lang = LANGS.includes(code) ? code : 'en';
  const r = await fetch(`/console/i18n/${lang}.json`, { credentials: 'same-origin' });
  strings = await r.json();
  document.documentElement.lang = lang;
}

export function currentLang() {
  return lang;
}

// The translated string for `key` with {name} placeholders filled in; the key itself if missing
// (visible, so a missing translation is noticed).
export function t(key, params = {}) {
  const s = strings[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

// Every element with data-i18n gets its text (data-i18n-placeholder: its placeholder).
export function translatePage(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]'))
    el.placeholder = t(el.dataset.i18nPlaceholder);
  const title = document.querySelector('title[data-i18n]');
  if (title) document.title = `${t(title.dataset.i18n)} · seatlock`;
}

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

// One API call; JSON in and out. POSTs carry the session's CSRF token.
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && me && me.csrf) headers['X-CSRF-Token'] = me.csrf;
  const r = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 204) return null;
  let data = null;
  try {
    data = await r.json();
  } catch {
    data = null;
  }
  if (!r.ok) {
    if (r.status === 401 && !path.startsWith('/api/login')) {
      location.href = '/console/index.html';
    }
    throw new ApiError(r.status, (data && data.error) || `HTTP ${r.status}`, data);
  }
  return data;
}

export function account() {
  return me;
}

// "?a=1&b=2" for the non-empty entries of `params`.
export function queryString(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

// "+08:00" for the viewer's zone at `date`.
export function zoneOffset(date) {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

// "2026-12-01 14:03:22 +08:00": milliseconds since the epoch in the viewer's zone.
export function formatTime(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zoneOffset(d)}`
  );
}

// <input type="datetime-local"> value ("2026-12-01T14:03") -> RFC 3339 with the viewer's offset.
export function localInputToRfc3339(value) {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return `${value.length === 16 ? `${value}:00` : value}${zoneOffset(d)}`;
}

// RFC 3339 (or ms) -> <input type="datetime-local"> value in the viewer's zone.
export function rfc3339ToLocalInput(text) {
  if (!text) return '';
  const d = new Date(/^\d+$/.test(text) ? Number(text) : text);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// document.createElement with attributes/properties and children (strings become text nodes, so
// no data is ever parsed as HTML).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// A link to the seat or person page.
export function seatLink(seat) {
  return el('a', { href: `/console/seat.html${queryString({ id: seat })}`, class: 'seat-link' }, seat);
}
export function personLink(name) {
  if (!name) return '—';
  return el('a', { href: `/console/person.html${queryString({ name })}`, class: 'person-link' }, name);
}

export function showError(target, err) {
  const text = err instanceof ApiError ? t('error.api', { status: err.status, message: err.message }) : String(err);
  clear(target).append(el('p', { class: 'error', role: 'alert' }, text));
}

const NAV = [
  ['overview', '/console/overview.html'],
  ['events', '/console/events.html'],
  ['fleet', '/console/fleet.html'],
];

function languageSwitch(onChange) {
  const select = el(
    'select',
    { id: 'lang-switch', 'aria-label': t('nav.language') },
    LANGS.map((code) => el('option', { value: code, selected: code === lang }, t(`lang.${code}`))),
  );
  select.addEventListener('change', () => onChange(select.value));
  return el('label', { class: 'lang' }, el('span', { class: 'lang-label' }, t('nav.language')), select);
}

// Header for pages behind the login: navigation, who is logged in, language switch, logout.
function renderHeader(active) {
  const header = document.getElementById('top');
  clear(header);
  const nav = el(
    'nav',
    { class: 'nav' },
    NAV.map(([key, href]) => el('a', { href, class: key === active ? 'active' : '', id: `nav-${key}` }, t(`nav.${key}`))),
  );
  const who = el('span', { class: 'who', id: 'who' }, `${me.account} · ${t(`role.${me.role}`)}`);
  const logout = el('button', { type: 'button', id: 'logout', class: 'link' }, t('nav.logout'));
  logout.addEventListener('click', async () => {
    await api('/api/logout', { method: 'POST' });
    location.href = '/console/index.html';
  });
  const switcher = languageSwitch(async (code) => {
    await api('/api/me/lang', { method: 'POST', body: { lang: code } });
    location.reload();
  });
  header.append(
    el('a', { href: '/console/overview.html', class: 'brand' }, 'seatlock'),
    nav,
    el('div', { class: 'right' }, switcher, who, logout),
  );
}

// For every page behind the login: who is logged in (else to the login page), their language,
// the header. Returns the account ({account, role, lang, csrf}).
export async function startPage(active) {
  try {
    me = await api('/api/me');
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) throw e;
    return new Promise(() => {});  // api() is already taking the browser to the login page
  }
  await loadStrings(me.lang);
  translatePage();
  renderHeader(active);
  document.body.classList.add(`role-${me.role}`);
  return me;
}

// The login page's language (no account yet): the last one chosen here, else the browser's.
export function loginLanguageSwitch(onChange) {
  return languageSwitch(onChange);
}
