// The login page: name + password -> /api/login, then the overview. Shows why a login failed,
// including the lockout after too many attempts (with the time it ends).
import { api, ApiError, formatTime, loadStrings, loginLanguageSwitch, t, translatePage, clear } from './common.js';

const LANG_KEY = 'seatlock.lang';

function initialLang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved) return saved;
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

async function render(code) {
  await loadStrings(code);
  translatePage();
  clear(document.getElementById('lang-slot')).append(
    loginLanguageSwitch((next) => {
      localStorage.setItem(LANG_KEY, next);
      render(next);
    }),
  );
}

function failureText(err) {
  if (!(err instanceof ApiError)) return t('login.unreachable');
  if (err.status === 401) return t('login.wrong');
  if (err.status === 403) return t('login.disabled');
  if (err.status === 429) {
    const until = err.body && err.body.locked_until_ms;
    return until ? t('login.locked_until', { time: formatTime(until) }) : t('login.locked');
  }
  return t('error.api', { status: err.status, message: err.message });
}

async function submit(event) {
  event.preventDefault();
  const message = document.getElementById('login-message');
  message.textContent = '';
  const button = document.getElementById('login-button');
  button.disabled = true;
  try {
    const me = await api('/api/login', {
      method: 'POST',
      body: {
        name: document.getElementById('name').value,
        password: document.getElementById('password').value,
      },
    });
    localStorage.setItem(LANG_KEY, me.lang);
    location.href = '/console/overview.html';
  } catch (err) {
    message.textContent = failureText(err);
    message.dataset.status = err instanceof ApiError ? String(err.status) : '0';
  } finally {
    button.disabled = false;
  }
}

document.getElementById('login-form').addEventListener('submit', submit);
render(initialLang());
