"""The built Jupyter Book: it builds with -W, works offline, links only to pages and anchors that exist,
and in a real browser (headless Chromium) every page typesets its math and loads every image.

The book is built once for this module (incrementally, into _build/html, as `make book` does). The browser
checks open a copy of the site in which every page carries a small probe script: after the page has loaded
and MathJax has typeset it, the probe writes what it found (images and their natural widths, MathJax
output, font status, leftover TeX) into the DOM, which Chromium's --dump-dom returns. A screenshot of each
page is kept in test-artifacts/book/ for a human to look at.
"""
from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from course_utils.book import REPO_ROOT, build

# Every test here uses the same build; xdist's loadgroup keeps them on one worker, so one build at a time.
pytestmark = pytest.mark.xdist_group(name="book")

ARTIFACTS = REPO_ROOT / "test-artifacts" / "book"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1280,2400", "--virtual-time-budget=10000"]
# TeX that survives in a page's text means MathJax did not typeset it; "{{" is an unrendered substitution.
RAW_MARKUP = ("$$", "\\(", "\\[", "\\begin{", "{{")
# Tags whose URL the browser fetches by itself: these must never point outside the book.
RESOURCE_ATTRIBUTES = {"script": "src", "img": "src", "iframe": "src", "source": "src", "link": "href"}

PROBE = """<script>
window.addEventListener("load", function () {
  function report() {
    // open every drop-down (answers, solutions) so that their math is laid out and measured too
    document.querySelectorAll("details").forEach(function (details) { details.open = true; });
    var body = document.body.cloneNode(true);
    body.querySelectorAll("script, style").forEach(function (node) { node.remove(); });
    var text = body.textContent;
    var fonts = [];
    document.fonts.forEach(function (font) { fonts.push([font.family, font.status]); });
    var out = {
      images: Array.from(document.images).map(function (img) {
        return {src: img.getAttribute("src"), complete: img.complete, naturalWidth: img.naturalWidth};
      }),
      mathjaxContainers: document.querySelectorAll("mjx-container").length,
      mathjaxErrors: Array.from(document.querySelectorAll("mjx-merror")).map(function (e) { return e.textContent; }),
      fonts: fonts,
      // display math wider than the text column (MathJax 3 does not break lines) scrolls sideways
      overflowingMath: Array.from(document.querySelectorAll('mjx-container[display="true"]')).filter(function (e) {
        return e.scrollWidth > e.clientWidth + 1;
      }).map(function (e) { return (e.parentElement.id || "") + " " + e.textContent.slice(0, 60); }),
      overflowingCode: Array.from(document.querySelectorAll("div.highlight pre")).filter(function (e) {
        return e.scrollWidth > e.clientWidth + 1;
      }).map(function (e) { return e.textContent.split("\\n").sort(function (a, b) { return b.length - a.length; })[0]; }),
      rawMarkup: RAW.filter(function (m) { return text.indexOf(m) >= 0; }).map(function (m) {
        var at = text.indexOf(m); return m + " in: " + text.slice(Math.max(0, at - 60), at + 60);
      })
    };
    var box = document.getElementById("book-test-report") || document.createElement("div");
    box.id = "book-test-report";
    box.hidden = true;
    box.textContent = JSON.stringify(out);
    document.body.appendChild(box);
  }
  // Report once MathJax has typeset the page, and again when the fonts it asked for have had time to load
  // (document.fonts.ready can stall under --virtual-time-budget; a timer runs in virtual time).
  var typeset = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
  typeset.then(function () { report(); setTimeout(report, 3000); });
});
</script>"""


# ----------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def site() -> Path:
    """The built book's HTML folder (a failed build fails every test that needs it)."""
    return build(quiet=True)


def page_files(site: Path) -> list[Path]:
    """The book's chapters (the pages of _toc.yml), as built HTML files."""
    pages = sorted((site / "book").rglob("*.html"))
    assert pages, f"no pages were built under {site / 'book'}"
    return pages


def chromium_executable() -> str:
    """Chromium's path, installing Debian's package when it is missing and we may (root with apt-get)."""
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    if not shutil.which("apt-get") or not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("headless Chromium is not installed and cannot be installed here (needs root and apt-get): "
                    "install it (Debian/Ubuntu: apt-get install -y chromium) to run the browser checks")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"could not install Chromium with apt-get: {result.stderr.strip().splitlines()[-1:]}")
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def probed_site(site: Path, tmp_path_factory) -> Path:
    """A copy of the site in which every chapter reports what the browser made of it (see PROBE)."""
    copy = tmp_path_factory.mktemp("book") / "html"
    shutil.copytree(site, copy)
    script = PROBE.replace("RAW", json.dumps(list(RAW_MARKUP)), 1)
    for page in page_files(copy):
        text = page.read_text(encoding="utf-8")
        assert "</body>" in text, f"{page} has no </body>"
        page.write_text(text.replace("</body>", script + "</body>", 1), encoding="utf-8")
    return copy


# ------------------------------------------------------------------------------------------- HTML parsing

class Links(HTMLParser):
    """Every URL-bearing attribute of a page, and every id/name it defines (anchor targets)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.anchors: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for key in ("id", "name"):
            if attributes.get(key):
                self.anchors.add(attributes[key])
        for key in ("href", "src"):
            if attributes.get(key) is not None:
                if tag == "link" and key == "href" and "canonical" in (attributes.get("rel") or ""):
                    continue
                self.urls.append((tag, key, attributes[key]))


def parse(page: Path) -> Links:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def is_external(url: str) -> bool:
    return bool(urlsplit(url).scheme) or url.startswith("//")


# ---------------------------------------------------------------------------------------------------- tests

def built_pages(site: Path) -> list[Path]:
    """Every HTML page of the site (the theme's Jinja macro files in _static/ are not pages)."""
    return [page for page in site.rglob("*.html") if "_static" not in page.relative_to(site).parts]


def test_no_page_fetches_anything_from_the_internet(site):
    """The book must work offline: scripts, styles, fonts and images all come from the build folder."""
    problems = []
    for page in built_pages(site):
        text = page.read_text(encoding="utf-8")
        for marker in ("cdn.", "jsdelivr", "unpkg.com", "googleapis", "cdnjs"):
            if marker in text:
                problems.append(f"{page.relative_to(site)} mentions {marker!r}")
        for tag, attribute, url in parse(page).urls:
            if tag in RESOURCE_ATTRIBUTES and attribute == RESOURCE_ATTRIBUTES[tag] and is_external(url):
                problems.append(f"{page.relative_to(site)}: <{tag} {attribute}={url!r}> loads from the internet")
    assert not problems, "\n".join(problems)


def has_math(page: Path) -> bool:
    return 'class="math' in page.read_text(encoding="utf-8")


def test_mathjax_is_served_from_the_book(site):
    """Every chapter with math loads MathJax 3 from the book's own copy (book/_extra/mathjax), which must exist."""
    pages_with_math = [page for page in page_files(site) if has_math(page)]
    assert pages_with_math, "no chapter has math: is the dollarmath extension still enabled in _config.yml?"
    for page in pages_with_math:
        sources = [url for tag, _, url in parse(page).urls if tag == "script" and "tex-chtml" in url]
        assert len(sources) == 1, f"{page.relative_to(site)} should load MathJax once, found {sources}"
        script = (page.parent / urlsplit(sources[0]).path).resolve()
        assert script == (site / "mathjax" / "es5" / "tex-chtml.js").resolve() and script.is_file(), (
            f"{page.relative_to(site)} loads MathJax from {sources[0]}, not from the vendored copy; "
            "is mathjax_path in _config.yml still ../mathjax/es5/tex-chtml.js?")


def test_every_internal_link_and_anchor_exists(site):
    """Parse every href/src of every built page; relative URLs must name a built file, #anchors an id there."""
    pages = {page.resolve(): parse(page) for page in built_pages(site)}
    problems = []
    for page, links in pages.items():
        for tag, attribute, url in links.urls:
            if is_external(url) or url.startswith(("javascript:", "data:")) or url in ("", "#"):
                continue
            parts = urlsplit(url)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            where = f"{page.relative_to(site.resolve())}: <{tag} {attribute}={url!r}>"
            if not target.is_file():
                problems.append(f"{where} points to a missing file")
            elif parts.fragment and target.suffix == ".html":
                anchors = pages[target].anchors if target in pages else parse(target).anchors
                if unquote(parts.fragment) not in anchors:
                    problems.append(f"{where}: no element with id {parts.fragment!r} in {target.name}")
    assert not problems, "\n".join(problems)


def test_walkthrough_parameter_counts_match_the_reference_models():
    """The architecture tables quote parameter counts; they must be those of solutions.vae's models."""
    from solutions.vae import ConvVAE, FCVAE

    text = (REPO_ROOT / "book" / "walkthroughs" / "conv_vae.md").read_text(encoding="utf-8")
    for model in (FCVAE(), ConvVAE(), ConvVAE(image_size=64)):
        count = f"{sum(p.numel() for p in model.parameters()):,}"
        assert count in text, f"conv_vae.md does not quote {type(model).__name__}'s {count} parameters: update its tables"


def test_hierarchical_walkthrough_matches_the_model_and_its_training_command():
    """The chapter's table and command are typed once in the page; they must be those of solutions.hvae and of the
    run that solutions.figures draws from."""
    from solutions.figures import RUN_COMMANDS
    from solutions.hvae import HierarchicalVAE

    text = (REPO_ROOT / "book" / "walkthroughs" / "hierarchical.md").read_text(encoding="utf-8")
    model = HierarchicalVAE()
    counts = [sum(p.numel() for p in module.parameters()) for module in
              (model, model.stem, model.down16, model.down8, model.top_posterior, model.top, model.up32, model.head)]
    counts.append(sum(p.numel() for m in (model.level16.prior, model.level16.posterior) for p in m.parameters()))
    counts.append(sum(p.numel() for m in (model.level16.inject, model.level16.block) for p in m.parameters()))
    missing = [f"{count:,}" for count in counts if f"{count:,}" not in text]
    assert not missing, f"hierarchical.md does not quote these parameter counts: {missing}; update its table"
    command = RUN_COMMANDS["cifar10-hvae"].format(runs="runs")
    assert command in text.replace(" \\\n    ", " "), f"hierarchical.md should show the command {command}"


def test_metrics_become_caption_substitutions():
    """book/_ext/book_metrics.py flattens metrics.json into MyST substitution names and readable numbers."""
    spec = importlib.util.spec_from_file_location("book_metrics", REPO_ROOT / "book" / "_ext" / "book_metrics.py")
    book_metrics = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(book_metrics)
    metrics = {"cifar10_conv": {"test_bpd": 4.71329, "epochs": 30, "train_minutes": 1234.6, "history": [5.1, 4.9],
                                "run": {"dataset": "cifar10", "images": 50000}}, "q2": {"tiny": 0.000123}}
    assert book_metrics.flatten(metrics) == {
        "cifar10_conv_test_bpd": "4.71", "cifar10_conv_epochs": "30", "cifar10_conv_train_minutes": "1,235",
        "cifar10_conv_run_dataset": "cifar10", "cifar10_conv_run_images": "50,000", "q2_tiny": "0.000123"}


def browser_problems(chromium: str, site: Path, page: Path, profile: Path) -> list[str]:
    """Open one probed page in headless Chromium, keep its screenshot, and list what is wrong with it."""
    name = str(page.relative_to(site)).replace(os.sep, "__").removesuffix(".html")
    screenshot = ARTIFACTS / f"{name}.png"
    result = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={screenshot}",
                             "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'<div id="book-test-report"[^>]*>(.*?)</div>', result.stdout, re.S)
    if not found:
        return [f"{name}: the page never finished loading (Chromium exit {result.returncode}; "
                f"stderr ends {result.stderr.strip()[-300:]!r})"]
    report = json.loads(html.unescape(found.group(1)))
    problems = []
    if has_math(page) and report["mathjaxContainers"] == 0:
        problems.append(f"{name}: has math but MathJax typeset nothing (did tex-chtml.js load?)")
    problems += [f"{name}: MathJax error {error!r}" for error in report["mathjaxErrors"]]
    fonts = [(family, status) for family, status in report["fonts"] if family.startswith("MJX")]
    problems += [f"{name}: MathJax font {family} failed to load" for family, status in fonts if status == "error"]
    if report["mathjaxContainers"] and ("MJXTEX", "loaded") not in fonts:
        problems.append(f"{name}: MathJax's main font MJXTEX did not load ({fonts}); is "
                        "book/_extra/mathjax/es5/output/chtml/fonts/woff-v2 complete?")
    problems += [f"{name}: untypeset markup {raw}" for raw in report["rawMarkup"]]
    problems += [f"{name}: display math wider than the page at 1280 px, split it: {math!r}"
                 for math in report["overflowingMath"]]
    problems += [f"{name}: code block wider than the page at 1280 px, shorten its longest line: {line!r}"
                 for line in report["overflowingCode"]]
    problems += [f"{name}: image {image['src']} did not load" for image in report["images"]
                 if not image["complete"] or image["naturalWidth"] == 0]
    if not screenshot.is_file():
        problems.append(f"{name}: no screenshot was written")
    return problems


@pytest.mark.browser
def test_pages_render_math_and_images_in_a_browser(probed_site):
    """Open every chapter in headless Chromium: math typeset by MathJax with its fonts, every image decoded."""
    chromium = chromium_executable()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = page_files(probed_site)
    # Two browsers at a time, each page with its own profile (Chromium locks a profile folder while it runs).
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = pool.map(lambda job: browser_problems(chromium, probed_site, job[1],
                                                        probed_site.parent / f"profile-{job[0]}"),
                           enumerate(pages))
        problems = [problem for report in reports for problem in report]
    assert not problems, "\n".join(problems)
