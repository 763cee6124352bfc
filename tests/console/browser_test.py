"""The console's pages in Debian's chromium (headless, driven by python3-selenium) against a real
collector with a real store (browser_rig.py): log in as auditor and admin, filter, page, open a
seat and a person, export and verify the export against the store, switch language, close a
group's internet as admin, be refused as auditor, the login rate limit, and no browser console
errors on any page. Screenshots of every page in both languages go to $SEATLOCK_ARTIFACTS.

Tests run in name order and share one collector (filling a store takes a while)."""

import glob
import json
import os
import re
import subprocess
import unittest
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_rig import PASSWORDS, SEATS, Console, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
WWW = os.path.join(HERE, "..", "..", "collector", "console", "www")
ARTIFACTS = os.environ.get("SEATLOCK_ARTIFACTS") or os.path.join(os.getcwd(), "artifacts", "console")

console = None


def setUpModule():
    global console
    os.makedirs(ARTIFACTS, exist_ok=True)
    print(f"\nscreenshots: {ARTIFACTS}", flush=True)
    console = Console()


def tearDownModule():
    if console:
        console.close()


def make_driver(width=1280, height=800, downloads=None):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              f"--window-size={width},{height}", "--lang=en-US",
              # The test CA is not in the browser's store; the server is on loopback.
              "--ignore-certificate-errors"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if downloads:
        opts.add_experimental_option("prefs", {"download.default_directory": downloads,
                                               "download.prompt_for_download": False})
    # The viewer is in a call center in China: the pages must show its zone and offset, not the
    # collector's (UTC here). TMPDIR: with --disable-dev-shm-usage chromium keeps its shared
    # memory files in the temp dir, and left them in /tmp; the rig's directory is removed.
    service = ChromeService(executable_path="/usr/bin/chromedriver",
                            env=dict(os.environ, TZ="Asia/Shanghai", TMPDIR=console.dir))
    d = webdriver.Chrome(options=opts, service=service)
    if downloads:
        d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    return d


class ConsoleBrowser(unittest.TestCase):
    allowed_console = ()  # regexes of console messages a test provokes on purpose

    def setUp(self):
        self.downloads = os.path.join(console.dir, f"downloads-{self._testMethodName}")
        os.makedirs(self.downloads, exist_ok=True)
        self.driver = make_driver(downloads=self.downloads)

    def tearDown(self):
        try:
            self.assert_no_console_errors()
        finally:
            self.driver.quit()

    # -- helpers ---------------------------------------------------------------------------
    def assert_no_console_errors(self, allowed=()):
        errors = [e for e in self.driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
        errors = [e for e in errors if not any(re.search(p, e["message"]) for p in allowed)]
        self.assertEqual(errors, [], "browser console errors")

    def open(self, path, loaded=None):
        self.driver.get(console.base + path)
        if loaded:
            self.wait_loaded(loaded)

    def wait_loaded(self, name):
        wait_for(lambda: self.driver.execute_script("return document.body.dataset.loaded") == name,
                 what=f"page {name} loaded")
        self.assert_no_console_errors()

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def login(self, name):
        self.open("/console/")
        wait_for(lambda: self.find("#login-button").text, what="login page strings")
        self.find("#name").send_keys(name)
        self.find("#password").send_keys(PASSWORDS[name][1])
        self.find("#login-button").click()
        self.wait_loaded("overview")

    def set_language(self, code):
        Select(self.find("#lang-switch")).select_by_value(code)
        wait_for(lambda: self.driver.execute_script("return document.documentElement.lang") == code
                 and self.driver.execute_script("return document.body.dataset.loaded"),
                 what=f"language {code}")

    def shot(self, name):
        path = os.path.join(ARTIFACTS, f"{name}.png")
        self.driver.save_screenshot(path)
        return path

    def session_headers(self):
        cookie = self.driver.get_cookie("seatlock_session")
        self.assertIsNotNone(cookie, "session cookie")
        self.assertTrue(cookie["httpOnly"] and cookie["secure"])
        me = self.driver.execute_async_script(
            "const done = arguments[0]; fetch('/api/me').then(r => r.json()).then(done);")
        return {"Cookie": f"seatlock_session={cookie['value']}", "X-CSRF-Token": me["csrf"]}

    def event_rows(self):
        return [(r.get_attribute("data-seat"), int(r.get_attribute("data-seq")))
                for r in self.finds("#events-table tr.event-row")]

    # -- tests -----------------------------------------------------------------------------
    def test_00_every_string_is_translated(self):
        # Without a CJK font the zh-CN pages (and their screenshots) show empty boxes.
        fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
        self.assertTrue(fonts.strip(), "no Chinese font: install fonts-wqy-microhei (scripts/deps.d/console.txt)")
        strings = {}
        for code in ("en", "zh-CN"):
            with open(os.path.join(WWW, "i18n", f"{code}.json"), encoding="utf-8") as f:
                strings[code] = json.load(f)
        self.assertEqual(set(strings["en"]), set(strings["zh-CN"]))
        used = set()
        for path in glob.glob(os.path.join(WWW, "**", "*.*"), recursive=True):
            if path.endswith((".js", ".html")):
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                used |= set(re.findall(r"\bt\('([\w.-]+)'", text))
                used |= set(re.findall(r'data-i18n(?:-placeholder)?="([^"]+)"', text))
        self.assertEqual(used - set(strings["en"]), set(), "strings used but not translated")
        for key, zh in strings["zh-CN"].items():
            if key.startswith("lang."):
                continue
            self.assertRegex(zh, r"[\u4e00-\u9fff]", f"zh-CN {key} is not Chinese: {zh!r}")

    def test_01_auditor_overview_both_languages(self):
        self.open("/console/")
        wait_for(lambda: self.find("#login-button").text == "Sign in", what="English login page")
        self.shot("login-en")
        Select(self.find("#lang-switch")).select_by_value("zh-CN")
        wait_for(lambda: self.find("#login-button").text == "登录", what="Chinese login page")
        self.shot("login-zh-CN")
        Select(self.find("#lang-switch")).select_by_value("en")
        wait_for(lambda: self.find("#login-button").text == "Sign in", what="English again")
        self.login("audit.wang")
        self.assertIn("audit.wang", self.find("#who").text)
        self.assertGreater(len(self.finds("#chart svg rect.bar")), 10, "chart bars")
        self.assertGreaterEqual(len(self.finds("#legend li")), 3)
        top = [r.text for r in self.finds("#top-seats-table td:first-child")]
        self.assertLessEqual(set(SEATS), set(top))
        self.assertEqual(top[0], "cc-0301", "the seat with the most violations comes first")
        silent = [r.text for r in self.finds("#silent-table td:first-child")]
        self.assertIn("cc-0301", silent)
        self.shot("overview-en")
        self.set_language("zh-CN")
        self.assertEqual(self.find("#nav-overview").text, "概览")
        self.shot("overview-zh-CN")
        # The choice is the account's: it survives logging out and in again.
        self.find("#logout").click()
        wait_for(lambda: self.driver.current_url.endswith("/console/index.html"), what="logout")
        self.login("audit.wang")
        self.assertEqual(self.find("#nav-events").text, "事件")
        self.set_language("en")
        self.assertEqual(self.find("#nav-events").text, "Events")

    def test_02_events_filter_page_detail(self):
        self.login("audit.wang")
        self.find("#nav-events").click()
        self.wait_loaded("events")
        self.assertEqual(len(self.event_rows()), 50)
        times = [r.text for r in self.finds("#events-table td.c-time")]
        self.assertRegex(times[0], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00$")
        self.assertIn("UTC+08:00", self.find("#zone").text)
        self.shot("events-en")
        # Filter with the form: the URL carries the filter, every row matches it.
        self.find("#f-seat").send_keys("cc-0201")
        self.find("#f-kind").send_keys("usb.blocked")
        self.driver.execute_script("delete document.body.dataset.loaded")
        self.find("#apply").click()
        wait_for(lambda: "seat=cc-0201" in self.driver.current_url, what="filter in URL")
        self.wait_loaded("events")
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.driver.current_url).query)
        self.assertEqual(query, {"seat": ["cc-0201"], "kind": ["usb.blocked"]})
        first = self.event_rows()
        self.assertEqual(len(first), 50)
        self.assertTrue(all(seat == "cc-0201" for seat, _ in first))
        self.assertEqual({c.text for c in self.finds("#events-table td.c-kind")}, {"usb.blocked"})
        # Older, older, newer: keyset pages that follow on (descending seq) and come back.
        self.find("#page-older").click()
        wait_for(lambda: self.event_rows() and self.event_rows()[0] != first[0], what="older page")
        second = self.event_rows()
        self.assertLess(second[0][1], first[-1][1])
        self.assertIn("after=", self.driver.current_url)
        self.find("#page-older").click()
        wait_for(lambda: self.event_rows() and self.event_rows()[0] != second[0], what="third page")
        self.find("#page-newer").click()
        wait_for(lambda: self.event_rows() == second, what="back to the second page")
        # A shared link shows the same page.
        self.driver.get(self.driver.current_url)
        self.wait_loaded("events")
        self.assertEqual(self.event_rows(), second)
        self.assertEqual(self.find("#f-seat").get_attribute("value"), "cc-0201")
        # A row opens the event's full JSON.
        self.finds("#events-table tr.event-row")[0].find_element(By.CSS_SELECTOR, "td.c-kind").click()
        wait_for(lambda: self.find("#detail-json").text.startswith("{"), what="event JSON")
        detail = json.loads(self.find("#detail-json").text)
        self.assertEqual(detail["event"]["seq"], second[0][1])
        self.assertEqual(detail["event"]["seat"]["id"], "cc-0201")
        self.assertIn("chain_hash", detail)
        self.shot("event-detail-en")
        self.find("#detail-close").click()
        self.set_language("zh-CN")
        self.shot("events-zh-CN")
        self.set_language("en")

    def test_03_seat_and_person(self):
        self.login("audit.wang")
        self.open("/console/events.html?seat=cc-0102", "events")
        self.finds("#events-table a.seat-link")[0].click()
        self.wait_loaded("seat")
        self.assertEqual(self.find("#seat-id").text, "cc-0102")
        self.assertTrue(all(r[0] == "cc-0102" for r in self.event_rows()))
        self.assertIn(self.find("#chain-status").get_attribute("class"), ("chain chain-ok",))
        self.shot("seat-en")
        user = self.finds("#events-table a.person-link")[0].text
        self.finds("#events-table a.person-link")[0].click()
        self.wait_loaded("person")
        self.assertEqual(self.find("#person-name").text, user)
        seats = {r.text for r in self.finds("#person-seats-table td:first-child")}
        self.assertIn("cc-0102", seats)
        self.assertGreater(len(seats), 1, "a person's events come from several seats")
        self.assertEqual(len(self.event_rows()), 50)
        self.shot("person-en")
        self.set_language("zh-CN")
        self.shot("person-zh-CN")
        self.driver.back()
        self.wait_loaded("seat")
        self.shot("seat-zh-CN")
        self.set_language("en")

    def export_and_verify(self, fmt):
        link = self.find(f"#export-{fmt}")
        link.click()
        path = wait_for(lambda: [p for p in glob.glob(os.path.join(self.downloads, f"*.{fmt}"))],
                        timeout=60, what=f"{fmt} download")[0]
        wait_for(lambda: self.find("#export-manifest").is_displayed(), what="manifest link")
        self.find("#export-manifest").click()
        manifest = wait_for(lambda: glob.glob(os.path.join(self.downloads, "*.manifest.json")),
                            timeout=60, what="manifest download")[0]
        r = console.cli("verify-export", path, "--manifest", manifest, "--db", console.db, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        os.remove(manifest)
        return path

    def test_04_export_what_the_filter_shows(self):
        self.login("audit.wang")
        self.open("/console/events.html?seat=cc-0202&kind=net.dns_denied", "events")
        csv_path = self.export_and_verify("csv")
        with open(csv_path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "time,seat,seq,kind,severity,user,outcome,id,chain_hash,line")
        self.assertGreater(len(lines), 50)
        self.assertTrue(all(",cc-0202," in l and "net.dns_denied" in l for l in lines[1:]))
        nd = self.export_and_verify("ndjson")
        with open(nd, encoding="utf-8") as f:
            rows = [json.loads(l) for l in f]
        self.assertEqual(len(rows), len(lines) - 1)
        # The export is recorded in the collector's own chain with the account.
        out = console.cli("query", "--db", console.db, "--kind", "console.export", "--json").stdout
        exports = [json.loads(l) for l in out.splitlines() if l.strip()]
        self.assertTrue(any(e["details"].get("account") == "audit.wang" for e in exports), out)

    def test_05_auditor_may_look_at_the_fleet_but_not_act(self):
        self.login("audit.wang")
        self.find("#nav-fleet").click()
        self.wait_loaded("fleet")
        self.assertTrue(self.find("#readonly-note").is_displayed())
        self.assertEqual(self.finds("form.group-action"), [])
        self.shot("fleet-auditor-en")
        status, body = console.request("POST", "/api/fleet/net",
                                       {"group": "floor-2", "action": "close", "ticket": "CHG-1"},
                                       self.session_headers())
        self.assertEqual(status, 403, body)
        self.set_language("zh-CN")
        self.shot("fleet-auditor-zh-CN")
        self.set_language("en")

    def test_06_admin_closes_and_opens_a_group(self):
        self.login("it.admin")
        self.open("/console/fleet.html", "fleet")
        self.assertFalse(self.find("#readonly-note").is_displayed())
        self.assertEqual(self.find("#internet-floor-2").text, "open")
        self.find("#close-floor-2").click()  # no ticket: refused in the page
        wait_for(lambda: "ticket" in self.find("form[data-group='floor-2'] .row-status").text.lower()
                 or self.find("#ticket-floor-2").get_attribute("validationMessage"), what="ticket required")
        self.find("#ticket-floor-2").send_keys("CHG-2041")
        self.find("#until-floor-2").send_keys("4h")
        self.find("#close-floor-2").click()
        wait_for(lambda: self.find("#internet-floor-2").text == "closed", what="floor-2 closed")
        self.shot("fleet-admin-en")
        self.set_language("zh-CN")
        self.assertEqual(self.find("#internet-floor-2").text, "关闭")
        self.shot("fleet-admin-zh-CN")
        self.find("#ticket-floor-2").send_keys("CHG-2042")
        self.find("#open-floor-2").click()
        wait_for(lambda: self.find("#internet-floor-2").text == "开放", what="floor-2 open")
        self.set_language("en")
        out = console.cli("query", "--db", console.db, "--kind", "fleet.net_closed", "--json").stdout
        self.assertIn("it.admin", out)

    def test_07_pages_at_1024_wide(self):
        self.driver.set_window_size(1024, 800)
        self.login("audit.wang")
        for page, loaded in (("overview.html", "overview"), ("events.html", "events"),
                             ("seat.html?id=cc-0101", "seat"), ("person.html?name=li.na", "person"),
                             ("fleet.html", "fleet")):
            self.open(f"/console/{page}", loaded)
            width = self.driver.execute_script("return document.documentElement.scrollWidth")
            self.assertLessEqual(width, 1024, f"{page} scrolls sideways at 1024 wide")
            self.shot(f"{loaded}-1024-en")

    def test_08_login_rate_limit(self):
        self.open("/console/")
        wait_for(lambda: self.find("#login-button").text, what="login page")
        messages = []
        for _ in range(6):
            self.find("#name").clear()
            self.find("#name").send_keys("audit.locked")
            self.find("#password").clear()
            self.find("#password").send_keys("not the password")
            self.find("#login-button").click()
            wait_for(lambda: self.find("#login-message").text and not self.find("#login-button").get_attribute("disabled"),
                     what="login answer")
            messages.append((self.find("#login-message").get_attribute("data-status"), self.find("#login-message").text))
        self.assertEqual(messages[0], ("401", "Wrong name or password."))
        self.assertEqual(messages[-1][0], "429")
        self.assertRegex(messages[-1][1], r"locked until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d")
        # Even the right password is refused while locked.
        self.find("#password").clear()
        self.find("#password").send_keys(PASSWORDS["audit.locked"][1])
        self.find("#login-button").click()
        wait_for(lambda: not self.find("#login-button").get_attribute("disabled"), what="answer")
        self.assertEqual(self.find("#login-message").get_attribute("data-status"), "429")
        self.shot("login-locked-en")
        Select(self.find("#lang-switch")).select_by_value("zh-CN")
        wait_for(lambda: self.find("#login-button").text == "登录", what="Chinese login page")
        self.find("#login-button").click()
        wait_for(lambda: "锁定" in self.find("#login-message").text, what="Chinese lockout message")
        self.shot("login-locked-zh-CN")
        # The failed fetches are the only console messages (the browser logs every 401/429).
        self.assert_no_console_errors(allowed=(r"/api/login - Failed to load resource: the server responded "
                                               r"with a status of (401|429)",))


if __name__ == "__main__":
    unittest.main(verbosity=2)
