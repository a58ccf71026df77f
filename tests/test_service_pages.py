"""The service's web pages in a real browser: Debian's chromium (.ci/browser/install_chromium.sh) driven
by playwright, against a real ``cpt serve`` with auth on. The tests run in file order and share the
server and its jobs: submit through the form, watch the job live, reload mid-run, download an artifact,
compare two jobs, cancel a job, see only one's own jobs, sign out.

Every page load is checked for console errors and for requests that leave localhost. Screenshots go to
``$CPT_TEST_ARTIFACTS/pages/`` (default ``test-artifacts/pages/`` in the checkout)."""

from __future__ import annotations

import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError, sync_playwright

from service_server import SMALL_RUN, Server, job, request, submit, token, wait_state

pytestmark = pytest.mark.slow
SHOTS = Path(os.environ.get("CPT_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts")) / "pages"
STATE: dict = {}  # what one test leaves for the next (they run in file order)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pages") / "work"
    tokens = {name: token(workdir, name) for name in ("alice", "bob")}
    server = Server(workdir, "service.auth=on").start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        yield server, tokens, browser, workdir
        browser.close()
    server.stop()


class Watched:
    """A browser context whose pages are watched: console errors, page errors and any request that is
    not to the test server are recorded (and the latter aborted)."""

    def __init__(self, browser, server):
        self.context = browser.new_context(viewport={"width": 1300, "height": 950}, accept_downloads=True)
        self.errors: list[str] = []
        self.off_site: list[str] = []
        self.base = server.url
        self.context.route("**/*", self._route)
        self.page = self.new_page()

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base + "/") or url == self.base or url.startswith("data:"):
            return route.continue_()
        self.off_site.append(url)
        return route.abort()

    def new_page(self):
        page = self.context.new_page()
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        return page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / name), full_page=True)

    def check(self, expected: tuple[str, ...] = ()) -> None:
        """No console error but the ``expected`` HTTP statuses of this test's own refusals; nothing off-site."""
        unexpected = [e for e in self.errors if not any(f"status of {code}" in e for code in expected)]
        assert not unexpected, unexpected
        assert not self.off_site, self.off_site
        self.context.close()


def until(page, expression: str, timeout: float) -> None:
    """Poll a JavaScript expression until it is true (``wait_for_function`` evals its predicate in the
    page, which the pages' Content-Security-Policy rightly forbids; ``evaluate`` goes through DevTools)."""
    deadline = time.time() + timeout
    while not _holds(page, expression):
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {expression}")
        page.wait_for_timeout(250)


def _holds(page, expression: str) -> bool:
    """The expression's value, or False while a form's redirect replaces the document (its elements are
    briefly absent, or the evaluation's context is torn down mid-call)."""
    try:
        return bool(page.evaluate(expression))
    except PlaywrightError as error:
        if "null" in str(error) or "context was destroyed" in str(error):
            return False
        raise


def sign_in(w: Watched, token_value: str, path: str = "/") -> None:
    w.page.goto(w.base + path)
    w.page.fill("#token", token_value)
    w.page.click("#signin")
    w.page.wait_for_url(re.compile(re.escape(w.base + path) + "$"))


def test_sign_in_is_required_a_wrong_token_is_refused_and_the_cookie_is_httponly_and_strict(site):
    server, tokens, browser, _ = site
    w = Watched(browser, server)
    w.page.goto(server.url + "/submit")
    assert w.page.url == server.url + "/signin?next=/submit"
    w.page.fill("#token", "cpt_not-a-token")
    w.page.click("#signin")
    assert "not valid" in w.page.text_content("#error-token")
    w.shot("01-signin-refused.png")
    w.page.fill("#token", tokens["alice"])
    w.page.click("#signin")
    w.page.wait_for_url(server.url + "/submit")
    cookie = next(c for c in w.context.cookies() if c["name"] == "cpt_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/", cookie
    assert w.page.evaluate("document.cookie") == ""  # no script can read the session
    w.check(expected=("401",))


def test_submit_form_shows_a_wrong_key_beside_the_field_then_submits_with_a_plan(site):
    server, tokens, browser, _ = site
    w = Watched(browser, server)
    sign_in(w, tokens["alice"], "/submit")
    w.page.fill("#overrides", "\n".join(SMALL_RUN + ["train.train_iterz=5"]))
    until(w.page, "document.querySelector('#error-overrides').textContent.includes('train_iterz')",
                             60)
    assert w.page.text_content("#error-config") == "" and w.page.text_content("#error-command") == ""
    assert "invalid" in w.page.get_attribute("#overrides", "class")
    w.shot("02-submit-wrong-key.png")
    w.page.fill("#overrides", "\n".join(SMALL_RUN))
    w.page.wait_for_selector("#plan-stages", timeout=60_000)
    assert w.page.text_content("#error-overrides") == ""
    assert "Token budget" in w.page.text_content("#plan-budget")
    assert [c.text_content() for c in w.page.query_selector_all("#plan-stages tbody tr td:first-child")][-3:] == \
        ["train", "evaluate", "report"]
    w.shot("03-submit-plan.png")
    w.page.click("#submit")
    w.page.wait_for_url(re.compile(r".*/jobs/[0-9a-f]{16}$"), timeout=60_000)
    STATE["job"] = w.page.url.rsplit("/", 1)[1]
    assert job(server, STATE["job"], tokens["alice"])["user"] == "alice"
    w.check()


def points(page, series: str = "train loss") -> int:
    return page.evaluate(f"""() => {{ const l = document.querySelector('#loss-chart polyline[data-series="{series}"]');
                          return l ? +l.dataset.points : 0; }}""")


def test_job_page_updates_live_until_done_and_continues_after_a_reload(site):
    server, tokens, browser, workdir = site
    w = Watched(browser, server)
    sign_in(w, tokens["alice"], f"/jobs/{STATE['job']}")
    loaded = w.page.evaluate("window.cptJobPage.loadedAt")
    # the page follows the job without a reload: stages turn done, the loss curve grows
    until(w.page, "document.querySelector('#stage-graph g[data-stage=\"train\"]').classList.contains('st-running')",
                             300)
    until(w.page, "() => { const l = document.querySelector('#loss-chart polyline');"
                             " return l && +l.dataset.points >= 2; }", 120)
    assert w.page.evaluate("window.cptJobPage.loadedAt") == loaded
    assert w.page.get_attribute("#stage-graph g[data-stage='curate']", "class") == "node st-completed"
    assert w.page.text_content("#p-stage") == "train" and w.page.text_content("#p-step") != "-"
    ticking = w.page.text_content("#job-duration")
    w.page.wait_for_timeout(2500)
    assert w.page.text_content("#job-duration") != ticking  # the duration runs on while the job does
    w.shot("04-job-live.png")
    before = points(w.page)
    w.page.reload()  # mid-run: the page comes back with what happened so far and goes on
    assert job(server, STATE["job"], tokens["alice"])["state"] == "running", "the run ended before the reload"
    assert points(w.page) >= before
    reloaded = w.page.evaluate("window.cptJobPage.loadedAt")
    until(w.page, "document.querySelector('#job-state').textContent === 'succeeded'", 300)
    w.page.wait_for_selector("#report", timeout=30_000)
    assert w.page.evaluate("window.cptJobPage.loadedAt") == reloaded
    states = w.page.eval_on_selector_all("#stage-graph g.node", "gs => gs.map(g => g.getAttribute('class'))")
    assert states and all(s in ("node st-completed", "node st-cached") for s in states), states
    assert points(w.page) == 80 // 5  # every logged step, none twice across the reload
    assert w.page.query_selector_all("#funnel tbody tr")
    assert float(w.page.text_content("#adaptation")) != 0
    report = w.page.frame_locator("#report")  # (the results section may be swapped in once more: wait)
    report.locator("img").nth(3).wait_for(timeout=30_000)
    assert "Continued-pretraining report" in report.locator("h1").text_content()
    deadline = time.time() + 30
    while not report.locator("img").evaluate_all("imgs => imgs.every(i => i.complete && i.naturalWidth > 0)"):
        assert time.time() < deadline, "the report's images did not load in its frame"
        w.page.wait_for_timeout(250)
    assert w.page.is_visible("#retry") and not w.page.is_visible("#cancel")
    w.shot("05-job-done.png")
    w.check()


def test_download_an_artifact(site, tmp_path):
    server, tokens, browser, workdir = site
    w = Watched(browser, server)
    sign_in(w, tokens["alice"], f"/jobs/{STATE['job']}")
    link = w.page.locator("#artifacts a", has_text=re.compile(r"^evaluate/manifest\.json$"))
    with w.page.expect_download() as info:
        link.click()
    saved = tmp_path / "manifest.json"
    info.value.save_as(saved)
    fp = next(s["fingerprint"] for s in job(server, STATE["job"], tokens["alice"])["stages"] if s["name"] == "evaluate")
    assert saved.read_bytes() == (workdir / "evaluate" / fp / "manifest.json").read_bytes()
    w.check()


def test_compare_two_jobs_config_diff_seed_spread_and_loss_curves(site):
    server, tokens, browser, _ = site
    second = submit(server, "run", SMALL_RUN + ["train.seed=7"], tokens["alice"])
    assert wait_state(server, second, token=tokens["alice"], timeout=600)["state"] == "succeeded"
    w = Watched(browser, server)
    sign_in(w, tokens["alice"])
    for job_id in (STATE["job"], second):
        w.page.check(f"input.pick[value='{job_id}']")
    w.page.click("#compare-button")
    w.page.wait_for_url(re.compile(r".*/compare\?jobs=.*"))
    diff = w.page.text_content("#config-diff")
    assert "train.seed" in diff and "sample.web_pages" not in diff
    rows = w.page.query_selector_all("#results-table tbody tr")
    assert len(rows) == 1  # the same config over two seeds: one variant, with its seed spread
    assert "7" in rows[0].text_content()
    assert w.page.query_selector_all("#scatter circle.point") and w.page.query_selector_all("#scatter line.err")
    assert w.page.eval_on_selector_all("#loss-overlay polyline", "ls => ls.map(l => +l.dataset.points)") == [16, 16]
    w.shot("06-compare.png")
    w.check()


def test_runs_page_and_jobs_filters(site):
    server, tokens, browser, workdir = site
    w = Watched(browser, server)
    sign_in(w, tokens["alice"], "/runs?stage=train")
    train_fp = next(s["fingerprint"] for s in job(server, STATE["job"], tokens["alice"])["stages"] if s["name"] == "train")
    row = w.page.locator(f"#run-train-{train_fp}")
    cells = row.locator("td")
    assert cells.nth(1).text_content() == "completed" and cells.nth(4).text_content().endswith(("KiB", "MiB"))
    assert "mix/" in cells.nth(5).text_content() and "evaluate/" in cells.nth(6).text_content()
    assert STATE["job"] in cells.nth(7).text_content()
    w.shot("07a-runs.png")
    w.page.goto(f"{server.url}/?state=succeeded")
    assert STATE["job"] in w.page.text_content("#job-rows")
    strip = w.page.eval_on_selector_all(f"tr[data-job='{STATE['job']}'] .strip .cell", "cs => cs.map(c => c.className)")
    assert len(strip) == 11 and all(c in ("cell st-completed", "cell st-cached") for c in strip), strip
    w.page.goto(f"{server.url}/?state=queued")
    assert STATE["job"] not in w.page.text_content("#job-rows")
    w.check()


def test_cancel_a_running_job(site):
    server, tokens, browser, _ = site
    job_id = submit(server, "run", [o for o in SMALL_RUN if not o.startswith("train.train_iters")]
                    + ["train.train_iters=2000", "train.seed=11"], tokens["alice"])
    w = Watched(browser, server)
    sign_in(w, tokens["alice"], f"/jobs/{job_id}")
    until(w.page, "document.querySelector('#p-stage').textContent === 'train' && "
                  "document.querySelector('#p-step').textContent !== '-'", 300)  # a train step logged
    assert points(w.page) >= 1
    with w.page.expect_navigation():
        w.page.click("#cancel")  # a form post answered by a redirect to this page
    until(w.page, "document.querySelector('#job-state').textContent === 'cancelled'", 120)
    assert job(server, job_id, tokens["alice"])["state"] == "cancelled"
    assert w.page.get_attribute("#stage-graph g[data-stage='train']", "class") != "node st-completed"
    w.shot("07-cancelled.png")
    STATE["cancelled"] = job_id
    w.check()


def test_a_user_sees_only_their_own_jobs(site):
    server, tokens, browser, _ = site
    w = Watched(browser, server)
    sign_in(w, tokens["bob"])
    assert w.page.text_content("#job-rows").strip().startswith("No jobs")
    response = w.page.goto(f"{server.url}/jobs/{STATE['job']}")
    assert response.status == 404 and STATE["job"] in w.page.text_content("#error-message")
    assert w.page.goto(f"{server.url}/compare?jobs={STATE['job']}&jobs={STATE['cancelled']}").status == 404
    w.check(expected=("404",))


def test_sign_out_and_be_refused(site):
    server, tokens, browser, _ = site
    w = Watched(browser, server)
    sign_in(w, tokens["alice"])
    assert STATE["job"] in w.page.text_content("#job-rows")
    session = next(c["value"] for c in w.context.cookies() if c["name"] == "cpt_session")
    assert session.startswith("cpts_") and tokens["alice"] not in session  # not the API token
    w.page.click("#signout")
    w.page.wait_for_url(server.url + "/signin")
    assert not [c for c in w.context.cookies() if c["name"] == "cpt_session"]
    SESSIONS["copy"] = session  # a copy of the cookie, kept past the sign-out, is refused too
    assert raw(server, "GET", "/", as_user="copy")[0] == 303
    assert raw(server, "GET", f"/api/v1/jobs/{STATE['job']}", as_user="copy")[0] == 401
    w.page.goto(f"{server.url}/jobs/{STATE['job']}")
    assert w.page.url.startswith(server.url + "/signin?next=")
    status = w.page.evaluate(f"fetch('/api/v1/jobs/{STATE['job']}').then(r => r.status)")
    assert status == 401
    w.shot("08-signed-out.png")
    w.check(expected=("401",))


# ------------------------------------------------------------------ the same server, without a browser
def raw(server, method: str, path: str, *, as_user: str = "", headers: dict | None = None, body: bytes | None = None):
    """One request; ``as_user``: an API token, sent as the session cookie a sign-in with it gives."""
    cookie = {"Cookie": f"cpt_session={session_cookie(server, as_user)}"} if as_user else {}
    req = urllib.request.Request(server.url + path, data=body, method=method, headers={**cookie, **(headers or {})})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SESSIONS: dict[str, str] = {}  # API token -> the session cookie its sign-in gave


def session_cookie(server, token: str) -> str:
    """Sign in as the page's form does (with its CSRF field); the cookie's value is a session id."""
    if token not in SESSIONS:
        csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', raw(server, "GET", "/signin")[2]).group(1)
        body = urllib.parse.urlencode({"csrf": csrf, "token": token, "next": "/"}).encode()
        status, headers, _ = raw(server, "POST", "/signin", headers=FORM, body=body)
        assert status == 303, status
        SESSIONS[token] = re.search(r"cpt_session=([^;]+)", headers["set-cookie"]).group(1)
        assert SESSIONS[token].startswith("cpts_") and token not in headers["set-cookie"]
    return SESSIONS[token]


def test_unsafe_requests_need_the_csrf_token_and_the_same_origin(site):
    server, tokens, _, _ = site
    alice, job_id = tokens["alice"], STATE["job"]
    page = raw(server, "GET", f"/jobs/{job_id}", as_user=alice)[2]
    csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page).group(1)
    # a form post without the token, with another session's token, or from another site: refused
    assert raw(server, "POST", f"/jobs/{job_id}/retry", as_user=alice, headers=FORM, body=b"")[0] == 403
    bob_page = raw(server, "GET", "/", as_user=tokens["bob"])[2]
    bob_csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', bob_page).group(1)
    assert bob_csrf != csrf
    assert raw(server, "POST", f"/jobs/{job_id}/retry", as_user=alice, headers=FORM, body=f"csrf={bob_csrf}".encode())[0] == 403
    evil = {**FORM, "Origin": "http://evil.example"}
    assert raw(server, "POST", f"/jobs/{job_id}/retry", as_user=alice, headers=evil, body=f"csrf={csrf}".encode())[0] == 403
    assert raw(server, "POST", f"/jobs/{job_id}/retry", as_user=alice,
               headers={**FORM, "Sec-Fetch-Site": "cross-site"}, body=f"csrf={csrf}".encode())[0] == 403
    # the JSON API with the cookie alone needs the header; with a bearer token it does not
    assert raw(server, "POST", f"/api/v1/jobs/{job_id}/retry", as_user=alice)[0] == 403
    status, _, _ = raw(server, "POST", f"/api/v1/jobs/{job_id}/retry", as_user=alice, headers={"X-CSRF-Token": csrf})
    assert status == 201
    assert request(server, "GET", f"/jobs/{job_id}", token=alice)[0] == 200
    # the right token from the same origin goes through
    status, headers, _ = raw(server, "POST", f"/jobs/{job_id}/retry", as_user=alice,
                             headers={**FORM, "Origin": server.url}, body=f"csrf={csrf}".encode())
    assert status == 303 and re.fullmatch(r"/jobs/[0-9a-f]{16}", headers["location"])


def test_pages_send_a_strict_content_security_policy_and_escape_what_users_wrote(site):
    server, tokens, _, _ = site
    status, headers, _ = raw(server, "GET", "/", as_user=tokens["alice"])
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert headers["x-content-type-options"] == "nosniff"
    hostile = "# </pre><script>window.pwned = 1</script><img src=x onerror=alert(1)>\nmix:\n  replay_fraction: 0.05\n"
    job_id = submit(server, "run", ["sample.web_pages=40"], tokens["alice"], config=hostile)
    request(server, "POST", f"/jobs/{job_id}/cancel", token=tokens["alice"])
    page = raw(server, "GET", f"/jobs/{job_id}", as_user=tokens["alice"])[2]
    assert "<script>window.pwned" not in page and "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page
    assert "<img src=x" not in page
    status, _, body = raw(server, "GET", "/jobs/%3Cscript%3Ealert(1)%3C%2Fscript%3E", as_user=tokens["alice"],
                          headers={"Accept": "text/html"})
    assert status == 404 and "<script>alert" not in body
    # odd bodies are refused in one line, not a server error
    assert raw(server, "POST", "/signin", headers=FORM, body=b"&".join(b"a=%d" % i for i in range(500)))[0] == 413
    csrf_alice = re.search(r'name="csrf-token" content="([0-9a-f]+)"', raw(server, "GET", "/", as_user=tokens["alice"])[2]).group(1)
    for body in (b"[" * 100_000 + b"]" * 100_000, b"not json", b"[1, 2]"):
        status, _, text = raw(server, "POST", "/submit/validate", as_user=tokens["alice"], body=body,
                              headers={"Content-Type": "application/json", "X-CSRF-Token": csrf_alice})
        assert status == 422 and "JSON object" in text, (status, text[:200])
    # sign-in sends nobody off the site, whatever ``next`` says
    csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', raw(server, "GET", "/signin")[2]).group(1)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        body = urllib.parse.urlencode({"csrf": csrf, "token": tokens["alice"], "next": target}).encode()
        status, headers, _ = raw(server, "POST", "/signin", headers=FORM, body=body)
        assert status == 303 and headers["location"] == "/", (target, headers.get("location"))
        cookie = headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict"), cookie
        assert "Max-Age=43200" in cookie and tokens["alice"] not in cookie, cookie


def test_the_pages_load_nothing_from_outside_the_server():
    """The templates and scripts name no external URL (a CDN, a font): the browser tests check the loads."""
    web = Path(__file__).parent.parent / "pipeline" / "service" / "web"
    for f in [*web.glob("templates/*.html"), *web.glob("static/*")]:
        text = f.read_text()
        urls = re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text)
        assert not [u for u in urls if not u.endswith("//www.w3.org")], (f, urls)  # the SVG namespace: a name, no load


def test_submit_page_offers_the_experiments(site):
    server, tokens, browser, _ = site
    w = Watched(browser, server)
    sign_in(w, tokens["alice"], "/submit")
    names = [a.text_content() for a in w.page.query_selector_all("#experiments a")]
    assert {"continue_hf_on_crawl", "continue_hf_on_slurm", "ablate_one_filter"} <= set(names)
    w.page.click("#experiments a:text-is('ablate_one_filter')")
    w.page.wait_for_url("**/submit?experiment=ablate_one_filter")
    assert w.page.input_value("#command") == "ablate"
    assert w.page.input_value("#overrides").strip() == "+experiment=ablate_one_filter"
    w.page.goto(f"{server.url}/submit?experiment=../../config")  # only a listed name is taken
    assert w.page.input_value("#overrides") == "" and w.page.input_value("#command") == "run"
