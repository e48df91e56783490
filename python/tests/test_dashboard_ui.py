"""The dashboard's pages in a real browser (headless Chromium driven by
selenium) against a live cluster running work: every page loads and shows
what the cluster has (the number of nodes, an actor's name, a job's status,
charts with data points, the task timeline, log files), and each page's
screenshot is not blank. Skipped when chromium, chromedriver or selenium is
missing (scripts/setup.sh installs them).

DASHBOARD_SCREENSHOTS_DIR=<folder> also keeps the screenshots there (make
dashboard-screenshots refreshes docs/images with it)."""
import os
import shutil
import socket
import struct
import sys
import textwrap
import time
import urllib.request
import zlib

import pytest

import photon
from photon import serve
from photon.job_submission import JobStatus, JobSubmissionClient
from photon.util.placement_group import placement_group

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.timeout(240, method="thread")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not CHROMIUM or not CHROMEDRIVER:
    pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)


def png_colors(data):
    """How many distinct pixel byte patterns a PNG's first rows hold (a blank
    page has one or two)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width = struct.unpack(">I", chunk[:4])[0]
            bpp = {2: 3, 6: 4}[chunk[9]]
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp + 1
    seen = set()
    prev = bytearray(stride - 1)
    for row in range(0, min(len(raw) // stride, 600)):
        line = bytearray(raw[row * stride + 1:(row + 1) * stride])
        kind = raw[row * stride]
        for i in range(len(line)):  # undo the PNG filters (None, Sub, Up, Average, Paeth)
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for i in range(0, len(line), bpp * 7):
            seen.add(bytes(line[i:i + 3]))
        prev = line
    return len(seen)


@pytest.fixture(scope="module")
def live_cluster(tmp_path_factory):
    ctx = photon.init(num_cpus=2, include_dashboard=True)
    try:
        token = open(os.path.join(ctx["session_dir"], "cluster_token")).read().strip()

        @photon.remote
        class UiActor:
            def ping(self):
                return "pong"

        @photon.remote
        def crunch(i):
            time.sleep(0.05)
            return i

        actor = UiActor.options(name="ui_actor").remote()
        photon.get(actor.ping.remote())
        photon.get([crunch.remote(i) for i in range(12)])
        pg = placement_group([{"CPU": 0.5}], name="ui_group")
        photon.get(pg.ready())
        script = tmp_path_factory.mktemp("job") / "job.py"
        script.write_text(textwrap.dedent("""
            import photon
            photon.init()
            print("job output:", photon.get(photon.put("ui-job-ok")))
        """))
        client = JobSubmissionClient(f"http://{ctx.dashboard_url}")
        sid = client.submit_job(entrypoint=f"{sys.executable} {script}", submission_id="ui-job")
        deadline = time.monotonic() + 90
        while not client.get_job_status(sid).is_terminal():
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert client.get_job_status(sid) == JobStatus.SUCCEEDED
        # A few samples of the metrics history, for the charts.
        deadline = time.monotonic() + 30
        while True:
            req = urllib.request.Request(f"http://{ctx.dashboard_url}/api/metrics/history")
            req.add_header("Authorization", f"Bearer {token}")
            import json
            h = json.loads(urllib.request.urlopen(req, timeout=10).read())
            if len(h["times"]) >= 3:
                break
            assert time.monotonic() < deadline, h
            time.sleep(0.5)
        yield {"ctx": ctx, "token": token, "actor": actor, "pg": pg}
    finally:
        photon.shutdown()


@pytest.fixture(scope="module")
def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=webdriver.ChromeService(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def open_page(browser, live_cluster, page):
    url = f"http://{live_cluster['ctx'].dashboard_url}/?token={live_cluster['token']}#/{page}"
    browser.get(url)
    name = page.split("/")[0]
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, f"main#page[data-loaded='true'][data-page='{name}']"))
    return browser


def screenshot(browser, tmp_path, name):
    data = browser.get_screenshot_as_png()
    assert png_colors(data) > 8, f"the {name} page looks blank"
    (tmp_path / f"dashboard-{name}.png").write_bytes(data)
    keep = os.environ.get("DASHBOARD_SCREENSHOTS_DIR")
    if keep:
        os.makedirs(keep, exist_ok=True)
        with open(os.path.join(keep, f"dashboard-{name}.png"), "wb") as f:
            f.write(data)


def fresh(browser, read):
    """read(browser) again while the page re-renders under it (pages that
    refresh themselves replace their elements every few seconds)."""
    for _ in range(20):
        try:
            return read(browser)
        except StaleElementReferenceException:
            time.sleep(0.1)
    return read(browser)


def text(browser):
    return fresh(browser, lambda d: d.find_element(By.ID, "page").text)


def attr(browser, css, name):
    return fresh(browser, lambda d: d.find_element(By.CSS_SELECTOR, css).get_attribute(name))


def chart_points(browser, title):
    return int(attr(browser, f"[data-chart='{title}'] svg", "data-points"))


def test_overview(browser, live_cluster, tmp_path):
    open_page(browser, live_cluster, "overview")
    assert fresh(browser, lambda d: d.find_element(By.ID, "stat-nodes").text) == "1"
    assert chart_points(browser, "CPUs in use") >= 2
    assert chart_points(browser, "Memory used") >= 2
    assert "ui-job" in text(browser)
    screenshot(browser, tmp_path, "overview")


def test_jobs_and_job_detail(browser, live_cluster, tmp_path):
    open_page(browser, live_cluster, "jobs")
    assert "ui-job" in text(browser) and "SUCCEEDED" in text(browser)
    screenshot(browser, tmp_path, "jobs")
    open_page(browser, live_cluster, "jobs/ui-job")
    WebDriverWait(browser, 20).until(
        lambda d: "ui-job-ok" in fresh(d, lambda b: b.find_element(By.ID, "job-logs").text))
    assert "SUCCEEDED" in text(browser)
    screenshot(browser, tmp_path, "job")


def test_actors(browser, live_cluster, tmp_path):
    open_page(browser, live_cluster, "actors")
    shown = text(browser)
    assert "ui_actor" in shown and "UiActor" in shown and "ALIVE" in shown
    assert int(attr(browser, "[data-chart='actors by state'] svg", "data-bars")) >= 1
    screenshot(browser, tmp_path, "actors")


def test_tasks_timeline_and_filter(browser, live_cluster, tmp_path):
    open_page(browser, live_cluster, "tasks")
    assert int(attr(browser, "#timeline svg", "data-spans")) >= 12
    assert "crunch" in text(browser)
    screenshot(browser, tmp_path, "tasks")
    browser.find_element(By.ID, "task-name-filter").send_keys("no_such_task")
    browser.find_element(By.CSS_SELECTOR, ".filters button").click()
    WebDriverWait(browser, 20).until(lambda d: "0 tasks" in text(d))


def test_nodes(browser, live_cluster, tmp_path):
    open_page(browser, live_cluster, "nodes")
    cards = fresh(browser, lambda d: [c.text for c in d.find_elements(By.CSS_SELECTOR,
                                                                     ".node-card")])
    assert len(cards) == 1 and "Head node" in cards[0] and "object store" in cards[0]
    screenshot(browser, tmp_path, "nodes")


def test_placement_groups(browser, live_cluster, tmp_path):
    open_page(browser, live_cluster, "placement-groups")
    assert "ui_group" in text(browser) and "CREATED" in text(browser)
    screenshot(browser, tmp_path, "placement-groups")


def test_serve(browser, live_cluster, tmp_path):
    @serve.deployment(num_replicas=2, ray_actor_options={"num_cpus": 0})
    class UiModel:
        def __call__(self, request):
            return "ok"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    try:
        serve.start(http_options={"port": port})
        serve.run(UiModel.bind(), name="ui_app", route_prefix="/ui")
        open_page(browser, live_cluster, "serve")
        shown = text(browser)
        assert "ui_app" in shown and "UiModel" in shown and "HEALTHY" in shown
        assert "2 running / 2 wanted" in shown and f"127.0.0.1:{port}" in shown
        screenshot(browser, tmp_path, "serve")
    finally:
        serve.shutdown()


def test_logs_browse_and_view(browser, live_cluster, tmp_path):
    page = open_page(browser, live_cluster, "logs")
    files = page.find_elements(By.CSS_SELECTOR, "a.log-file")
    names = [f.text for f in files]
    assert any(n.startswith("raylet") for n in names), names
    next(f for f in files if f.text.startswith("raylet")).click()
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "log-view").text not in ("", "Pick a file."))
    screenshot(browser, tmp_path, "logs")


def test_metrics(browser, live_cluster, tmp_path):
    open_page(browser, live_cluster, "metrics")
    assert chart_points(browser, "photon_node_mem_used") >= 2
    assert chart_points(browser, "photon_resources CPU") >= 2
    screenshot(browser, tmp_path, "metrics")


def test_without_the_token_the_page_asks_for_it(browser, live_cluster):
    browser.delete_all_cookies()
    browser.get(f"http://{live_cluster['ctx'].dashboard_url}/#/overview")
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "auth").is_displayed())
    assert "token" in browser.find_element(By.ID, "auth").text
