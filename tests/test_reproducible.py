"""Two clean builds of the same sources give the same site, byte for byte, except the
benchmark's numbers and what is drawn from them.

SLOW: this builds the whole site twice from nothing (every snippet runs, every notebook
renders), in two temporary copies of the sources, side by side: about 25 s on an idle
2-core machine, and more beside the other tests. It is marked `slow` and runs in
`nox -s tests`; `-m "not slow"` leaves it out. The first build's log also shows that the
build prints only what it should (docs/hooks/quiet_build.py).

The second build runs as if elsewhere and later: in another folder, another time zone,
and a year later (SOURCE_DATE_EPOCH, which MkDocs and Matplotlib take as the build
time), so that a path, a date or a time in any output shows up as a difference.

What may differ, and how much of it is still compared:

* the benchmark page and its notebook page: everything but their <article>;
* the decision guide: everything but its tables (the advice drawn from the numbers);
* the benchmark notebook (.ipynb): everything but its cells' outputs;
* each search index: every entry's location and title, and the text of every entry
  outside those three pages.
"""

import concurrent.futures
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from conftest import ROOT, SNIPPETS

pytestmark = pytest.mark.slow

SOURCES = ["docs", "snippets", "mkdocs.yml", "mkdocs.zh.yml"]
CONFIGS = ["mkdocs.yml", "mkdocs.zh.yml"]  # English first: its build empties site/
LANGUAGE_ROOTS = ["", "zh/"]
# Pages that show the benchmark's numbers, with what is left out when comparing them.
BENCHMARK_PAGES = {
    "benchmark/": r"<article\b.*?</article>",
    "notebooks/benchmark/": r"<article\b.*?</article>",
    "decision-guide/": r"<table>.*?</table>",
}
A_YEAR = 365 * 24 * 3600


def clean_build(tree, env):
    """Build the site in `tree` from nothing, as `nox -s docs` does; return its files
    and what each configuration's build printed."""
    logs = {}
    for config in CONFIGS:
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", config],
            cwd=tree, env=env, capture_output=True, text=True,
        )
        assert result.returncode == 0, f"{tree}: {config}:\n{result.stderr[-3000:]}"
        logs[config] = result.stdout + result.stderr
    site = tree / "site"
    files = {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    return files, logs


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    now = int(time.time())
    runs = {"a": {"TZ": "UTC"}, "b": {"TZ": "Asia/Shanghai", "SOURCE_DATE_EPOCH": str(now + A_YEAR)}}
    trees = {}
    for name, extra in runs.items():
        tree = trees[name] = tmp_path_factory.mktemp(f"build_{name}")
        for source in SOURCES:
            copy = shutil.copytree if (ROOT / source).is_dir() else shutil.copy2
            kwargs = {"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}
            copy(ROOT / source, tree / source, **kwargs)
        extra.update(NO_MKDOCS_2_WARNING="1")
        runs[name] = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"} | extra
    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = {name: pool.submit(clean_build, trees[name], runs[name]) for name in runs}
        files, logs = {}, {}
        for name, future in futures.items():
            files[name], logs[name] = future.result()
    print(f"two clean builds, side by side: {time.perf_counter() - began:.1f} s")
    dates = {
        "a": datetime.datetime.fromtimestamp(now, datetime.timezone.utc),
        "b": datetime.datetime.fromtimestamp(now + A_YEAR, datetime.timezone.utc),
    }
    return files, dates, logs


def benchmark_page(path):
    """The BENCHMARK_PAGES key of a file of the site, or None."""
    for root in LANGUAGE_ROOTS:
        for page in BENCHMARK_PAGES:
            if path.startswith(root + page) and "/" not in path[len(root + page) :]:
                return page
    return None


def comparable(path, content):
    """The part of a file that must be the same in every build."""
    page = benchmark_page(path)
    if page and path.endswith(".html"):
        return re.sub(BENCHMARK_PAGES[page], "", content.decode(), flags=re.DOTALL)
    if page and path.endswith(".ipynb"):
        notebook = json.loads(content)
        for cell in notebook["cells"]:
            cell.pop("outputs", None)
        return notebook
    if path.endswith("search/search_index.json"):
        index = json.loads(content)
        for doc in index["docs"]:
            if (location := doc["location"].partition("#")[0]) in BENCHMARK_PAGES:
                doc["text"] = f"(measured on {location})"
        return index
    return content


def test_two_clean_builds_give_the_same_files(two_builds):
    files, _, _ = two_builds
    assert sorted(files["a"]) == sorted(files["b"])
    assert len(files["a"]) > 100 and "sitemap.xml.gz" in files["a"]
    differ = [p for p in files["a"] if comparable(p, files["a"][p]) != comparable(p, files["b"][p])]
    assert differ == []
    exempt = [p for p in files["a"] if files["a"][p] != files["b"][p]]
    assert exempt and all(benchmark_page(p) or p.endswith("search_index.json") for p in exempt)


def test_no_file_carries_its_build_date(two_builds):
    """Not even a page exempt from the comparison: a date there is not a measured number."""
    files, dates, _ = two_builds
    for name, date in dates.items():
        stamp = date.strftime("%Y-%m-%d").encode()
        assert [p for p, content in files[name].items() if stamp in content] == [], name


# All that a build may print (docs/hooks/quiet_build.py): the torch import, one line per
# snippet, the snippets' summary, and MkDocs' own three lines.
QUIET_LOG = re.compile(
    r"INFO    -  (imported torch \S+ in [\d.]+ s"
    r"|snippets/(?P<snippet>\w+)\.py: (ran in [\d.]+ s|cached)"
    r"|snippets: \d+ ran, \d+ cached, 0 failed in [\d.]+ s"
    r"|Cleaning site directory|Building documentation to directory: \S+"
    r"|Documentation built in [\d.]+ seconds)"
)


def test_a_clean_build_prints_the_snippets_and_the_result_only(two_builds):
    _, _, logs = two_builds
    for config, log in logs["a"].items():
        lines = log.splitlines()
        assert [line for line in lines if not QUIET_LOG.fullmatch(line)] == [], config
        snippets = [m["snippet"] for line in lines if (m := QUIET_LOG.fullmatch(line))["snippet"]]
        assert sorted(snippets) == SNIPPETS, config
    assert "INFO    -  imported torch" in logs["a"]["mkdocs.yml"]
