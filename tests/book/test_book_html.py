"""Checks of the built HTML book as a reader sees it.

The book is the folder named by the environment variable ``KALEIDO_TEST_BOOK`` (relative paths are
relative to the repository root). ``make test`` builds the book and sets it, so a missing book is an
error there. Without the variable the tests look at ``_build/html`` and skip if it was not built.

``test_internal_links`` needs only the standard library. The ``browser`` tests open pages in headless
Chromium (Debian's ``chromium`` and ``chromium-driver``) and wait for MathJax to typeset them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

BOOK_ENV = "KALEIDO_TEST_BOOK"
DEFAULT_BOOK = "_build/html"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
NO_BROWSER = "no headless browser: install Debian's chromium and chromium-driver to run this test"
FIG02_PAGE = "book/fig02_single_point_1d.html"
MATHJAX_TIMEOUT_S = 20
EXTERNAL_SCHEMES = ("http:", "https:", "mailto:", "data:", "javascript:", "tel:", "ftp:")


def _repo_root() -> Path:
    """The folder holding ``_toc.yml`` above this tests folder."""
    here = Path(__file__).resolve().parent
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    raise RuntimeError(f"no _toc.yml in {here} or any folder above it")


REPO = _repo_root()


@pytest.fixture(scope="module")
def book() -> Path:
    """The built book's HTML folder (the one holding index.html)."""
    named = os.environ.get(BOOK_ENV)
    if named:
        folder = Path(named)
        if not folder.is_absolute():
            folder = REPO / folder
        if not folder.is_dir():
            pytest.fail(
                f"{BOOK_ENV}={named!r}: the book folder {folder} does not exist (did the book build fail?)"
            )
        if not (folder / "index.html").is_file():
            pytest.fail(f"{BOOK_ENV}={named!r}: {folder} holds no index.html (did the book build fail?)")
        return folder.resolve()
    folder = REPO / DEFAULT_BOOK
    if not (folder / "index.html").is_file():
        pytest.skip(
            f"the book is not built ({DEFAULT_BOOK}/index.html is missing): run `make book` or set {BOOK_ENV}"
        )
    return folder.resolve()


# --------------------------------------------------------------------------------------------------
# Internal links, with the standard library only
# --------------------------------------------------------------------------------------------------

_META_REFRESH_URL = re.compile(r"""^\s*\d+\s*[;,]\s*url\s*=\s*['"]?([^'"]*)['"]?\s*$""", re.I)


class _PageParser(HTMLParser):
    """Collects the ids and name= anchors of a page, and every href/src it refers to."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()
        self.refs: list[tuple[int, str, str, str]] = []  # (line, tag, attribute, url)
        self.base: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        line = self.getpos()[0]
        if attributes.get("id"):
            self.anchors.add(attributes["id"])
        if tag == "a" and attributes.get("name"):
            self.anchors.add(attributes["name"])
        if tag == "base" and attributes.get("href") is not None:
            self.base = attributes["href"]
        for name in ("href", "src"):
            if name in attributes and attributes[name] is not None:
                self.refs.append((line, tag, name, attributes[name]))
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            match = _META_REFRESH_URL.match(attributes.get("content") or "")
            if match:
                self.refs.append((line, tag, "content", match.group(1)))

    handle_startendtag = handle_starttag


def _is_internal(url: str) -> bool:
    url = url.strip()
    return not (url.startswith("//") or url.lower().startswith(EXTERNAL_SCHEMES))


def _is_unrendered_template(page: Path, book: Path, text: str) -> bool:
    """Jinja macro files the theme copies into _static: build inputs, never shown to a reader."""
    return page.relative_to(book).parts[0] == "_static" and "{%" in text and "{{" in text


def _parse(page: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser


def test_internal_links(book):
    pages = sorted(book.rglob("*.html"))
    assert pages, f"no .html page in {book}"
    parsed: dict[Path, _PageParser] = {}

    def anchors_of(page: Path) -> set[str]:
        if page not in parsed:
            parsed[page] = _parse(page)
        return parsed[page].anchors

    broken: list[str] = []
    checked = 0
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        if _is_unrendered_template(page, book, text):
            continue
        parser = parsed.setdefault(page, _parse(page))
        where = page.relative_to(book).as_posix()
        if parser.base is not None:
            broken.append(f"{where}: <base href={parser.base!r}> (relative links not checkable)")
            continue
        for line, tag, attribute, url in parser.refs:
            if not _is_internal(url):
                continue
            checked += 1
            parts = urlsplit(url.strip())
            if parts.scheme:  # file:, about:, ... an absolute local URL is broken once published
                broken.append(f"{where}:{line}: <{tag} {attribute}={url!r}>: non-portable scheme")
                continue
            path = unquote(parts.path)
            if path.startswith("/"):
                broken.append(
                    f"{where}:{line}: <{tag} {attribute}={url!r}>: absolute path "
                    "(breaks when the book is not served from the web root)"
                )
                continue
            target = (page.parent / path).resolve() if path else page
            try:
                target.relative_to(book)
            except ValueError:
                broken.append(f"{where}:{line}: <{tag} {attribute}={url!r}>: points outside the book")
                continue
            if target.is_dir():
                if not (target / "index.html").is_file():
                    broken.append(f"{where}:{line}: <{tag} {attribute}={url!r}>: a folder with no index.html")
                    continue
                target = target / "index.html"
            if not target.is_file():
                broken.append(
                    f"{where}:{line}: <{tag} {attribute}={url!r}>: "
                    f"{target.relative_to(book).as_posix()} does not exist"
                )
                continue
            fragment = unquote(parts.fragment)
            is_page = target.suffix.lower() in (".html", ".htm")
            if fragment and is_page and fragment not in anchors_of(target):
                broken.append(
                    f"{where}:{line}: <{tag} {attribute}={url!r}>: no element with "
                    f"id or name {fragment!r} in {target.relative_to(book).as_posix()}"
                )
    assert checked, f"no internal link found in the {len(pages)} pages of {book}"
    assert not broken, f"{len(broken)} broken internal link(s) of {checked} checked in {book}:\n" + "\n".join(
        broken
    )


# --------------------------------------------------------------------------------------------------
# The pages in headless Chromium
# --------------------------------------------------------------------------------------------------


def _no_browser(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"CI must have a headless browser (.ci/run installs Debian's chromium and "
            f"chromium-driver): {reason}"
        )
    pytest.skip(NO_BROWSER)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        _no_browser(f"missing {', '.join(missing)}")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        _no_browser(f"selenium is not importable ({error})")

    # Never let Selenium Manager look for (or download) a browser or driver.
    previous = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(30)
    browser.set_script_timeout(MATHJAX_TIMEOUT_S)
    try:
        yield browser
    finally:
        browser.quit()
        if previous is None:
            os.environ.pop("SE_OFFLINE", None)
        else:
            os.environ["SE_OFFLINE"] = previous


_WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const started = Date.now();
(function wait() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done("ok"), (e) => done("MathJax failed: " + e));
  } else if (Date.now() - started > LIMIT_MS) {
    done("MathJax never started");
  } else {
    setTimeout(wait, 50);
  }
})();
""".replace("LIMIT_MS", str((MATHJAX_TIMEOUT_S - 1) * 1000))

_REPORT = """
const article = document.querySelector("article.bd-article") || document.querySelector("main");
if (!article) return null;
const hidden = (el) => el.closest("pre, code, script, style, mjx-container, .highlight");
let text = "";
const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const el = node.parentElement;
  if (!el || hidden(el) || el.getClientRects().length === 0) continue;
  text += node.nodeValue;
}
return {
  images: Array.from(article.querySelectorAll("img")).map((img) => ({
    src: img.getAttribute("src"), complete: img.complete, naturalWidth: img.naturalWidth})),
  mathjax: article.querySelectorAll("mjx-container").length,
  merrors: Array.from(document.querySelectorAll("mjx-merror")).map((e) => e.textContent),
  untypeset: Array.from(article.querySelectorAll(".math")).filter(
    (m) => !m.querySelector("mjx-container")).map((m) => m.textContent.trim().slice(0, 80)),
  text: text,
};
"""


def _open_and_typeset(driver, page: Path) -> dict:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.as_uri())
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    return _typeset(driver, page.name)


def _typeset(driver, name: str) -> dict:
    from selenium.common.exceptions import TimeoutException

    try:
        state = driver.execute_async_script(_WAIT_FOR_MATHJAX)
    except TimeoutException:
        state = f"MathJax did not finish within {MATHJAX_TIMEOUT_S} s"
    assert state == "ok", (
        f"{name}: {state} (is _static/mathjax/tex-chtml.js in the book, and its "
        "input/output components next to it?)"
    )
    report = driver.execute_script(_REPORT)
    assert report is not None, f"{name}: no <article class='bd-article'> or <main> in the page"
    return report


def _math_problems(report: dict, name: str) -> list[str]:
    problems = []
    if report["mathjax"] < 1:
        problems.append(f"{name}: no typeset math (no mjx-container in the article)")
    if report["merrors"]:
        problems.append(f"{name}: MathJax errors: {report['merrors']}")
    if report["untypeset"]:
        problems.append(f"{name}: math left untypeset: {report['untypeset']}")
    raw = [m.start() for m in re.finditer(r"\$\$", report["text"])]
    if raw:
        problems.append(
            f"{name}: {len(raw)} raw '$$' in the visible text of the article, e.g. "
            f"{report['text'][max(raw[0] - 60, 0) : raw[0] + 60]!r}"
        )
    return problems


def _image_problems(report: dict, name: str, at_least: int) -> list[str]:
    images = report["images"]
    problems = []
    if len(images) < at_least:
        problems.append(f"{name}: {len(images)} <img> in the article, expected at least {at_least}")
    unloaded = [i["src"] for i in images if not (i["complete"] and i["naturalWidth"] > 0)]
    if unloaded:
        problems.append(f"{name}: images that did not load: {unloaded}")
    return problems


@contextlib.contextmanager
def _window(driver, width: int, height: int):
    """The browser window at ``width`` x ``height`` for the block, then as it was."""
    size = driver.get_window_size()
    driver.set_window_size(width, height)
    try:
        yield
    finally:
        driver.set_window_size(size["width"], size["height"])


def _screenshot(driver, name: str) -> Path:
    """A full-height screenshot (up to 12000 px) in _build/test-screenshots."""
    folder = REPO / "_build" / "test-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
    )
    size = driver.get_window_size()
    driver.set_window_size(size["width"], min(max(int(height) + 100, 800), 12000))
    path = folder / name
    try:
        assert driver.save_screenshot(str(path)), f"could not save {path}"
    finally:
        driver.set_window_size(size["width"], size["height"])
    return path


@pytest.mark.browser
def test_figure2_page_in_browser(book, driver):
    page = book / FIG02_PAGE
    assert page.is_file(), f"{FIG02_PAGE} is not in the book {book}"
    report = _open_and_typeset(driver, page)
    shot = _screenshot(driver, "fig02.png")
    problems = _image_problems(report, FIG02_PAGE, at_least=2) + _math_problems(report, FIG02_PAGE)
    assert not problems, "\n".join(problems) + f"\n(screenshot: {shot})"


@pytest.mark.browser
def test_index_page_in_browser(book, driver):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    index = book / "index.html"
    driver.get(index.as_uri())
    # index.html may be a redirect (Jupyter Book writes a meta refresh to the root chapter); a
    # script run while the page is being replaced can fail, so those errors only mean "not yet".
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: (
            d.execute_script("return document.readyState") == "complete"
            and d.execute_script("return !!document.querySelector('article, main')")
        )
    )
    landed = driver.current_url
    report = _typeset(driver, f"index.html (shown as {landed})")
    shot = _screenshot(driver, "index.png")
    problems = _image_problems(report, landed, at_least=0) + _math_problems(report, landed)
    assert not problems, "\n".join(problems) + f"\n(screenshot: {shot})"


def _new_shape_chapters() -> list[str]:
    """Chapters built with kaleido_lib.book.chapter (findings box, captioned figures): their pages get the reader checks."""
    return sorted(
        p.stem for p in (REPO / "notebooks").glob("*.py") if "kl.book.chapter.start(" in p.read_text()
    )


_READER = """
const article = document.querySelector("article.bd-article") || document.querySelector("main");
const top = (el) => el.getBoundingClientRect().top + window.scrollY;
const figures = Array.from(article.querySelectorAll("figure"));
const images = Array.from(article.querySelectorAll("img"));
return {
  figures: figures.map((f) => ({
    top: top(f),
    number: (f.querySelector(".caption-number") || {textContent: ""}).textContent.trim(),
    caption: (f.querySelector("figcaption") || {textContent: ""}).textContent.trim().length})),
  loose_images: images.filter((img) => !img.closest("figure")).map((img) => img.getAttribute("src")),
  alts: images.map((img) => img.getAttribute("alt") || ""),
  findings_top: (() => { const a = article.querySelector(".admonition"); return a ? top(a) : null; })(),
  raw_tables: (article.innerText.match(/\\|\\s*-{3,}\\s*\\|/g) || []).length,
};
"""


@pytest.mark.browser
@pytest.mark.parametrize("chapter", _new_shape_chapters())
def test_a_new_shape_chapter_reads_like_a_paper_section(book, driver, chapter):
    """Findings first, every figure numbered and captioned with alt text in words, the first figure within
    2,000 px of the top at 1400 px width, no image outside a figure, no raw table text."""
    page = book / "book" / f"{chapter}.html"
    assert page.is_file(), f"{page} is not in the book"
    with _window(driver, 1400, 1000):
        _open_and_typeset(driver, page)
        r = driver.execute_script(_READER)
    problems = []
    if not r["figures"]:
        problems.append("no figure")
    if r["findings_top"] is None or (r["figures"] and r["findings_top"] > r["figures"][0]["top"]):
        problems.append("no findings box before the first figure")
    if r["figures"] and r["figures"][0]["top"] > 2000:
        problems.append(f"the first figure starts {r['figures'][0]['top']:.0f} px down (more than 2,000)")
    for i, f in enumerate(r["figures"], 1):
        if not re.match(r"Fig(ure|\.)\s*\d+", f["number"]) or f["caption"] < 20:
            problems.append(f"figure {i}: number {f['number']!r}, caption of {f['caption']} characters")
    for alt in r["alts"]:
        if len(alt.split()) < 4 or re.fullmatch(r"[0-9a-f]{16,}.*", alt):
            problems.append(f"an image whose alt text says nothing: {alt!r}")
    if r["loose_images"]:
        problems.append(f"images outside a captioned figure: {r['loose_images']}")
    if r["raw_tables"]:
        problems.append(f"{r['raw_tables']} raw markdown table rule(s) in the text")
    assert not problems, f"{chapter}: " + "; ".join(problems)


@pytest.mark.browser
def test_scoreboard_verdicts_fit_a_1400_px_screen(book, driver):
    """Every verdict cell of the scoreboard is inside the viewport without scrolling sideways."""
    with _window(driver, 1400, 1000):
        _open_and_typeset_plain(driver, book / "book" / "scoreboard.html")
        r = driver.execute_script("""
const cells = Array.from(document.querySelectorAll("article table tbody tr td:nth-child(2)"));
return {n: cells.length, width: document.documentElement.clientWidth,
        worst: Math.max(0, ...cells.map((c) => c.getBoundingClientRect().right)),
        raw: (document.querySelector("article").innerText.match(/\\|\\s*-{3,}\\s*\\|/g) || []).length};
""")
    assert r["n"] > 0, "no verdict cell in the scoreboard"
    assert r["worst"] <= r["width"], (
        f"a verdict cell ends at {r['worst']:.0f} px, past the {r['width']} px screen"
    )
    assert r["raw"] == 0, "raw markdown table text on the scoreboard"


def _open_and_typeset_plain(driver, page: Path) -> None:
    """Open a page that may hold no math and wait until it is loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.as_uri())
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def test_each_chapter_offers_its_jupytext_source_for_download(book):
    """Beside '.ipynb', each chapter's download menu links its real source, notebooks/<chapter>.py, copied as is."""
    pages = sorted((book / "book").glob("*.html"))
    chapters = [p for p in pages if (REPO / "notebooks" / f"{p.stem}.py").is_file()]
    assert chapters, f"no chapter page in {book / 'book'}"
    for page in chapters:
        assert f'_sources/book/{page.stem}.py"' in page.read_text(encoding="utf-8"), (
            f"{page.name}: no .py download"
        )
        copied = book / "_sources" / "book" / f"{page.stem}.py"
        assert copied.read_bytes() == (REPO / "notebooks" / f"{page.stem}.py").read_bytes(), (
            f"{copied} differs"
        )


def test_the_performance_page_times_every_chapter_of_its_own_build(book):
    """The end-to-end table is written after every chapter of the build has run, so each chapter has a time in the
    profile the book was built in (the page is never left saying 'not run yet' for its own build)."""
    page = (book / "book" / "performance.html").read_text()
    after = page.split('id="end-to-end-what-a-re-run-costs"', 1)[1]
    section = after.split("</h2>", 1)[1].split("<h2", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", section, flags=re.S)
    cells = [re.findall(r"<td><p>(.*?)</p></td>", r, flags=re.S) for r in rows]
    chapters = {re.sub(r"<[^>]+>", "", c[0]): c[1:] for c in cells if len(c) == 3}
    notebooks = {p.stem for p in (REPO / "notebooks").glob("*.py")}
    assert notebooks <= set(chapters), f"chapters missing from the table: {sorted(notebooks - set(chapters))}"
    results = sorted((book.parent.parent / "book" / "results").glob("*.json"))
    profiles = {json.loads(r.read_text()).get("profile") for r in results if r.stem in notebooks}
    assert len(profiles) == 1, f"the build's results files name {profiles or 'no'} profile"
    column = 0 if profiles == {"ci"} else 1
    untimed = sorted(
        name for name, times in chapters.items() if name in notebooks and times[column] == "not run yet"
    )
    assert not untimed, f"chapters of this build without a time in its profile: {untimed}"


def test_each_chapter_says_when_it_was_built_in_the_ci_profile(book):
    """A chapter page of a ci build carries the ci note under its title; a paper build carries none."""
    notebooks = {p.stem for p in (REPO / "notebooks").glob("*.py")}
    results = sorted((book.parent.parent / "book" / "results").glob("*.json"))
    profiles = {json.loads(r.read_text()).get("profile") for r in results if r.stem in notebooks}
    marked = {
        name
        for name in notebooks
        if "Built in the ci profile" in (book / "book" / f"{name}.html").read_text()
    }
    if profiles == {"ci"}:
        assert marked == notebooks, f"ci pages without the note: {sorted(notebooks - marked)}"
    else:
        assert not marked, f"pages of a {profiles} build marked as ci: {sorted(marked)}"


_LEGIBLE = """
const article = document.querySelector("article.bd-article") || document.querySelector("main");
const shown = (el) => el.getClientRects().length > 0;
const code = "pre, code, kbd, script, style, mjx-container, .math, .highlight, .cell_output, .output";
const prose = [];
const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const el = node.parentElement;
  if (el && shown(el) && !el.closest(code)) prose.push(node.nodeValue);
}
const inline = Array.from(article.querySelectorAll("code")).filter(
  (c) => shown(c) && !c.closest("pre, .cell_output, .output, .highlight"));
return {
  prose: prose.join(" "),
  captions: Array.from(article.querySelectorAll("figcaption")).map((f) => f.textContent),
  inline_code: inline.map((c) => c.textContent.trim()),
  overflow: Array.from(article.querySelectorAll(
    ".cell_output pre, .output pre, table, .pst-scrollable-table-container")).filter(
    (e) => shown(e) && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1).map(
    (e) => ({tag: e.tagName, text: e.textContent.trim().slice(0, 80), over: e.scrollWidth - e.clientWidth})),
  images: Array.from(article.querySelectorAll("img")).filter(shown).map((img) => ({
    src: img.getAttribute("src"), natural: img.naturalWidth, width: img.getBoundingClientRect().width})),
};
"""
SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")


def _chapter_knobs(chapter: str) -> set[str]:
    from kaleido_lib.chapters import chapter_settings

    cls = chapter_settings().get(chapter)
    return {f.name for f in cls.knobs()} if cls else set()


def _smallest_text_px(image: Path, natural: float, width: float) -> float | None:
    """The smallest text of a figure as the page shows it, from the font size and dpi its file records."""
    from PIL import Image

    from kaleido_lib import plots

    with Image.open(image) as im:
        if im.format == "GIF":
            raw = im.info.get("comment", b"").decode()
            meta = dict(part.split("=", 1) for part in raw.split(";") if "=" in part)
        else:
            meta = dict(getattr(im, "text", {}) or {})
    if plots.FONT_KEY not in meta or plots.DPI_KEY not in meta:
        return None
    return plots.shown_text_px(float(meta[plots.FONT_KEY]), float(meta[plots.DPI_KEY]), natural, width)


@pytest.mark.browser
@pytest.mark.parametrize("chapter", _new_shape_chapters())
def test_a_chapter_is_legible_at_1400_px(book, driver, chapter):
    """Values, not names: no snake_case identifier in the prose outside code, no knob's name alone in code where
    its value belongs (``knob=value`` is a setting and fine), none in a caption; every figure's smallest text at
    least plots.MIN_TEXT_PX high as the page shows it (from the font size and dpi the file records); no printed
    output or table wider than its box (code cells may scroll)."""
    from kaleido_lib import plots

    page = book / "book" / f"{chapter}.html"
    with _window(driver, 1400, 1000):
        _open_and_typeset(driver, page)
        r = driver.execute_script(_LEGIBLE)
    knobs = _chapter_knobs(chapter)
    problems = [f"an identifier in the prose: {w!r}" for w in sorted(set(SNAKE.findall(r["prose"])))]
    problems += [
        f"a setting named where its value belongs: `{c}`" for c in sorted(set(r["inline_code"]) & knobs)
    ]
    for caption in r["captions"]:
        problems += [
            f"a name in a caption: {n!r} in {caption.strip()[:60]!r}"
            for n in sorted(set(SNAKE.findall(caption)))
        ]
    problems += [
        f"{o['tag'].lower()} wider than its box by {o['over']} px: {o['text']!r}" for o in r["overflow"]
    ]
    for img in r["images"]:
        path = (page.parent / unquote(urlsplit(img["src"]).path)).resolve()
        if not path.is_file() or not img["natural"]:
            continue  # test_internal_links and the image checks report missing images
        px = _smallest_text_px(path, img["natural"], img["width"])
        if px is None:
            problems.append(
                f"{path.name}: records no font size (saved without plots.savefig or sampling_gif)"
            )
        elif px < plots.MIN_TEXT_PX:
            problems.append(
                f"{path.name}: smallest text {px:.1f} px on the page (at least {plots.MIN_TEXT_PX:g})"
            )
    assert not problems, f"{chapter}: " + "; ".join(problems)


def _cell_text(html: str) -> str:
    import html as html_lib

    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", html)).split())


@pytest.mark.parametrize("chapter", _new_shape_chapters())
def test_the_findings_box_shows_the_results_files_numbers(book, chapter):
    """Each row of a chapter's findings box (claim, verdict, key number) is the results file's claim, verdict and
    key number, in the order failures first: the box and the scoreboard read the same run."""
    assert not _findings_problems(book, chapter)


def _findings_problems(book: Path, chapter: str) -> list[str]:
    """How a chapter page's findings box differs from the results file of its build (nothing when they agree)."""
    from kaleido_lib.book.chapter import FIRST, key_number

    path = book.parent.parent / "book" / "results" / f"{chapter}.json"
    doc = json.loads(path.read_text()) if path.is_file() else {"claims": []}
    page = (book / "book" / f"{chapter}.html").read_text(encoding="utf-8")
    box = page.split("Findings of this run", 1)[1].split("</table>", 1)[0] if doc["claims"] else ""
    rows = [
        [_cell_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", box.split("<tbody>", 1)[-1], flags=re.S)
    ]
    claims = sorted(doc["claims"], key=lambda c: FIRST.index(c["verdict"]))
    expected = [[c["verdict"], key_number(c)] for c in claims]
    if [r[1:] for r in rows] != expected:
        return [f"{chapter}: the findings box {[r[1:] for r in rows]} differs from {path}: {expected}"]
    plain = lambda text: " ".join(re.sub(r"[*`$\\]", "", text).replace("\u2019", "'").split())  # smart quotes
    return [
        f"{chapter}: claim {c['id']!r} reads {row[0]!r}"
        for row, c in zip(rows, claims, strict=True)
        if plain(c["claim"]) != plain(row[0])
    ]


PAPER_BOOK_ENV = "KALEIDO_TEST_PAPER_BOOK"


@pytest.fixture(scope="module")
def paper_book() -> Path:
    """The recorded paper book's HTML folder, rendered by ``make test`` (``$KALEIDO_TEST_PAPER_BOOK``)."""
    named = os.environ.get(PAPER_BOOK_ENV)
    if not named:
        pytest.skip(f"{PAPER_BOOK_ENV} is not set: make test renders the recorded paper book and sets it")
    folder = Path(named) if Path(named).is_absolute() else REPO / named
    if not (folder / "index.html").is_file():
        pytest.fail(f"{PAPER_BOOK_ENV}={named!r}: no index.html in {folder} (did the render fail?)")
    return folder.resolve()


def test_the_recorded_paper_book_says_what_produced_each_page(paper_book):
    """Every chapter of the recorded paper book carries its provenance line (and, recorded on older code, the note
    naming the files changed since), or says that it is not recorded; a recorded chapter's findings box holds the
    paper profile's numbers, from its recorded results file."""
    from kaleido_lib.book import recorded

    problems = []
    for path in sorted((REPO / "notebooks").glob("*.py")):
        name = path.stem
        st = recorded.status(name)
        page = (paper_book / "book" / f"{name}.html").read_text(encoding="utf-8")
        if st.usable:
            if "Recorded in the paper profile at commit" not in page:
                problems.append(f"{name}: recorded, but its page has no provenance line")
            if (st.state == "stale") != ("Recorded on older code" in page):
                problems.append(f"{name}: {st.state}, and its page says otherwise")
            results = paper_book.parent.parent / "book" / "results" / f"{name}.json"
            if results.is_file():
                if json.loads(results.read_text()).get("profile") != "paper":
                    problems.append(f"{name}: its results file is not the paper profile's")
                problems += _findings_problems(paper_book, name)
        elif "Not in the recorded paper book" not in page:
            problems.append(f"{name}: {st.state}, and its page does not say so")
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_a_recorded_chapter_reads_in_the_browser(paper_book, driver):
    """The first recorded chapter opens in Chromium with its math typeset and its figures loaded."""
    from kaleido_lib.book import recorded

    names = [p.stem for p in sorted((REPO / "notebooks").glob("*.py")) if recorded.status(p.stem).usable]
    if not names:
        pytest.skip("no chapter is recorded yet")
    page = paper_book / "book" / f"{names[0]}.html"
    report = _open_and_typeset(driver, page)
    problems = _image_problems(report, page.name, at_least=1)
    assert not problems, "\n".join(problems)


EXPLORABLE = {"depth_study": 2, "mnist_kaleidoscope": 1}  # chapter -> its explorable figures
PAGE_BUDGET = 2_500_000  # bytes of a page's HTML with its explorable figures (BokehJS is shared, in _static)

_MOVE = """
const done = arguments[arguments.length - 1];
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const snap = (m) => (m ? JSON.stringify(Array.from(m.data.x || m.data.image[0] || []).slice(0, 20)) : null);
(async () => {
  const out = {docs: [], sprites: []};
  for (let t = 0; t < 100 && window.Bokeh && Bokeh.documents.length === 0; t++) await wait(50);
  for (const doc of (window.Bokeh ? Bokeh.documents : [])) {
    const run = doc.get_model_by_name("run"), depth = doc.get_model_by_name("depth");
    const samples = doc.get_model_by_name("samples");
    const r = {has: !!(run && depth && samples)};
    if (r.has) {
      r.first = snap(samples);
      run.value = run.end; await wait(300);
      r.last_run = snap(samples);
      depth.active = depth.labels.length - 1; await wait(300);
      r.last_depth = snap(samples);
    }
    out.docs.push(r);
  }
  for (const root of document.querySelectorAll(".kaleido-sprite")) {
    const input = root.querySelector("input"), frame = root.querySelector(".kaleido-sprite-frame");
    const before = frame.style.backgroundPosition;
    input.value = 0; input.dispatchEvent(new Event("input")); await wait(50);
    out.sprites.push({before, after: frame.style.backgroundPosition, title: (frame.children[0] || {}).title || ""});
  }
  out.remote = performance.getEntriesByType("resource").map((e) => e.name).filter((u) => !u.startsWith("file:"));
  out.remote_tags = Array.from(document.querySelectorAll("script[src], link[href], img[src]")).map(
    (e) => e.getAttribute("src") || e.getAttribute("href")).filter((u) => /^(https?:)?\\/\\//.test(u));
  done(out);
})();
"""


@pytest.mark.browser
@pytest.mark.parametrize("chapter", sorted(EXPLORABLE))
def test_explorable_figures_move_offline(book, driver, chapter):
    """Each explorable figure answers its controls (the samples drawn change with the run and with the depth; a
    sprite's frame changes with its slider), the page asks nothing of the network, and it stays within
    PAGE_BUDGET."""
    page = book / "book" / f"{chapter}.html"
    size = page.stat().st_size
    assert size <= PAGE_BUDGET, (
        f"{chapter}: the page is {size / 1e6:.2f} MB (budget {PAGE_BUDGET / 1e6:.1f} MB)"
    )
    _open_and_typeset(driver, page)
    r = driver.execute_async_script(_MOVE)
    found = len(r["docs"]) + len(r["sprites"])
    assert found == EXPLORABLE[chapter], (
        f"{chapter}: {found} explorable figures, expected {EXPLORABLE[chapter]}"
    )
    for d in r["docs"]:
        assert d["has"], f"{chapter}: an explorable figure without its named run, depth and samples"
        assert d["first"] != d["last_run"], f"{chapter}: moving the run slider changed nothing"
        assert d["last_run"] != d["last_depth"], f"{chapter}: picking another depth changed nothing"
    for s in r["sprites"]:
        assert s["before"] != s["after"], f"{chapter}: moving the sprite's slider changed nothing"
        assert s["title"], f"{chapter}: a sprite's images have no hover text"
    assert not r["remote"] and not r["remote_tags"], f"{chapter}: requests off the machine: {r}"
