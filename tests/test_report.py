"""`specc report`: a self-contained HTML page of a real run and of a sweep, opened in a real browser (headless
Chromium, driven by Playwright with Debian's `chromium` binary; no browser download)."""

import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import probe_cli, run_cli

pytestmark = pytest.mark.slow  # a real run is trained (once per test process) and a browser started

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
RUN_SECTIONS = ["test-metrics", "architecture", "layers", "curves", "confusion", "metrics", "data", "training",
                "environment", "spec"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium with a fresh profile. CI installs Debian's chromium (.ci/run); elsewhere a missing
    browser skips these tests, never in CI."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium package (.ci/run)")
        pytest.skip("needs Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("profile"), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1000, "height": 900})
        yield context
        context.close()


def open_page(browser, path: Path, width: int = 1000):
    """Load a file in a new tab; returns the page, its console messages and page errors, and every request."""
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    events = {"console": [], "errors": [], "requests": []}
    page.on("console", lambda m: events["console"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda err: events["errors"].append(str(err)))
    page.on("request", lambda r: events["requests"].append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    return page, events


def not_blank(png: bytes) -> None:
    import io

    import matplotlib.image

    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    pixels = image[..., :3].reshape(-1, 3)
    assert pixels.std() > 0.05, "the screenshot is blank"
    assert len({tuple(p) for p in (pixels[::7] * 255).round().astype(int).tolist()}) > 50


@pytest.fixture(scope="module")
def run_report(tiny_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = run_cli("report", tiny_runs["a"], "-o", out)
    assert result.returncode == 0, result.stderr
    return out


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.refs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [(tag, k, v) for k, v in attrs if k in ("src", "href", "srcset", "poster", "data")]


def test_the_file_needs_nothing_from_outside(run_report):
    text = run_report.read_text()
    parser = Links()
    parser.feed(text)
    assert "script" not in parser.tags and "link" not in parser.tags and "iframe" not in parser.tags
    for tag, attr, value in parser.refs:
        assert value.startswith("data:image/") if tag == "img" else value.startswith("#"), (tag, attr, value[:80])
    assert "@import" not in text and "url(http" not in text and "@font-face" not in text
    assert sum(1 for tag, _, _ in parser.refs if tag == "img") >= 3  # diagram, curves, confusion matrix


def test_the_page_renders_in_chromium(browser, run_report, tiny_runs):
    page, events = open_page(browser, run_report)
    assert events["console"] == [] and events["errors"] == []
    assert events["requests"] == [run_report.as_uri()], "the page requested something besides itself"
    assert page.inner_text("h1") == "blobs"
    assert page.inner_text(".status") == "completed"
    ids = page.eval_on_selector_all("main section, header section", "els => els.map(e => e.id)")
    assert ids == RUN_SECTIONS
    # Test metrics first, as numbers the run wrote.
    test = json.loads((tiny_runs["a"] / "metrics.json").read_text())["test"]
    assert page.inner_text("#test-metrics").split() == ["Test", "metrics", "accuracy", f"{test['accuracy']:.4f}",
                                                        "loss", f"{test['loss']:.4f}"]
    # Every figure decoded, with alt text.
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.naturalWidth, e.alt, e.closest('section').id])")
    assert {section for _, _, section in images} == {"architecture", "curves", "confusion"}
    assert all(width > 100 and len(alt) > 20 for width, alt, _ in images)
    # The layer table, as `specc summary` counts.
    rows = page.eval_on_selector_all("#layers tbody tr", "rows => rows.map(r => r.innerText.split('\\t'))")
    assert [r[1] for r in rows] == ["Input", "Dense", "Dense"] and [r[3] for r in rows] == ["0", "80", "51"]
    assert "131 parameters" in page.inner_text("#layers caption")
    fingerprint = json.loads((tiny_runs["a"] / "run.json").read_text())["data"]["fingerprint"]
    assert fingerprint in page.inner_text("#data")
    assert "learning_rate: 0.01" in page.inner_text("#spec pre")
    not_blank(page.screenshot(full_page=True))
    page.close()


def test_readable_on_a_phone_and_in_print(browser, run_report):
    page, _ = open_page(browser, run_report, width=375)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone's screen"
    assert page.eval_on_selector("nav", "e => getComputedStyle(e).display") != "none"
    page.emulate_media(media="print")
    assert page.eval_on_selector("nav", "e => getComputedStyle(e).display") == "none"
    assert page.pdf()[:5] == b"%PDF-"
    page.close()


def make_sweep(tiny_runs, folder: Path) -> Path:
    """A sweep directory as `specc tune` lays it out (two trained trials and an invalid point)."""
    sweep = folder / "sweep"
    for number, name in ((0, "a"), (1, "b")):
        shutil.copytree(tiny_runs[name], sweep / "trials" / f"{number:04d}")
    shutil.copy(tiny_runs["spec"], sweep / "spec.yaml")
    val = [json.loads((tiny_runs[n] / "metrics.json").read_text())["validation"]["accuracy"] for n in "ab"]
    results = {"objective": {"metric": "val_accuracy", "direction": "maximize"}, "trials": [
        {"number": 0, "params": {"compile.optimizer.learning_rate": 0.01}, "value": val[0], "state": "complete",
         "epochs": 3, "run_dir": "trials/0000", "message": None},
        {"number": 1, "params": {"compile.optimizer.learning_rate": 0.05}, "value": val[1], "state": "complete",
         "epochs": 3, "run_dir": "trials/0001", "message": None},
        {"number": 2, "params": {"compile.optimizer.learning_rate": 9.0}, "value": None, "state": "invalid",
         "epochs": 0, "run_dir": None, "message": "the learning rate is out of range"}]}
    best = max(results["trials"][:2], key=lambda t: t["value"])
    results["best"] = {k: best[k] for k in ("number", "params", "value", "run_dir")}
    (sweep / "results.json").write_text(json.dumps(results))
    (sweep / "sweep.json").write_text(json.dumps({"specc_sweep": 1, "name": "blobs", "objective": results["objective"],
                                                  "trials": 3, "status": "complete"}))
    return sweep


def test_a_sweep_report_has_the_leaderboard_and_every_trial(browser, tiny_runs, tmp_path):
    sweep = make_sweep(tiny_runs, tmp_path)
    out = tmp_path / "sweep.html"
    result = run_cli("report", sweep, "-o", out)
    assert result.returncode == 0, result.stderr
    page, events = open_page(browser, out)
    assert events["console"] == [] and events["errors"] == [] and events["requests"] == [out.as_uri()]
    rows = page.eval_on_selector_all("#leaderboard tbody tr", "rows => rows.map(r => r.innerText.split('\\t'))")
    best = json.loads((sweep / "results.json").read_text())["best"]["number"]
    assert [r[1] for r in rows] == [str(best), str(1 - best), "2"]  # best first; the invalid point last
    assert rows[2][2] == "invalid" and "out of range" in rows[2][-1]
    assert page.eval_on_selector_all("#trials article", "els => els.length") == 3
    assert page.eval_on_selector_all("#trials img", "els => els.filter(e => e.naturalWidth > 0).length") == 2
    not_blank(page.screenshot())
    page.close()


def test_usage_errors(tiny_runs, tmp_path):
    for args, expected in (([tiny_runs["a"], "-o", tmp_path / "r.pdf"], ".html"),
                           ([tmp_path, "-o", tmp_path / "r.html"], "not a run or sweep directory")):
        out = run_cli("report", *args)
        assert out.returncode == 2 and expected in out.stderr, out.stderr
    assert not (tmp_path / "r.html").exists()


def test_report_reads_files_only(tiny_runs, tmp_path):
    code, heavy, out = probe_cli("report", tiny_runs["a"], "-o", tmp_path / "r.html")
    assert code in (0, None), out.stderr
    assert heavy == []
