"""Build and check the guide. `nox -l` lists the sessions; `nox -s docs tests` runs the usual pair."""

import pathlib

import nox

nox.options.sessions = ["docs", "tests"]
nox.options.reuse_venv = "yes"  # torch is large: install it once per session venv

PYPROJECT = nox.project.load_toml("pyproject.toml")
DOCS_DEPS = nox.project.dependency_groups(PYPROJECT, "docs")
TEST_DEPS = nox.project.dependency_groups(PYPROJECT, "test")
ENV = {"NO_MKDOCS_2_WARNING": "1"}
# English first: its build empties site/, then the Chinese build writes site/zh/.
CONFIGS = {"en": "mkdocs.yml", "zh": "mkdocs.zh.yml"}
# One worker per core (pytest-xdist); each page's browser checks stay on one worker.
PARALLEL = ["--numprocesses", "auto", "--dist", "loadgroup"]


@nox.session
def docs(session: nox.Session) -> None:
    """Run the snippets (only those changed since the last build) and build site/ in English and Chinese, strict."""
    session.install(*DOCS_DEPS)
    for config in CONFIGS.values():
        session.run("mkdocs", "build", "--strict", "--config-file", config, env=ENV)


@nox.session(requires=["docs"])
def tests(session: nox.Session) -> None:
    """Check the snippets' numbers (100% line coverage), the build pipeline, and the built site (in Chromium, if installed)."""
    session.install(*TEST_DEPS)
    coverage = ["--cov", "--cov-report=term-missing", "--cov-fail-under=100"]
    session.run("pytest", *PARALLEL, *coverage, *session.posargs)


@nox.session(requires=["docs"])
def lesson(session: nox.Session) -> None:
    """While editing one lesson: `nox -s lesson -- hooks` (or `-- jacobian-assembly`) runs its snippet's tests and the checks of its pages, in both languages, without the coverage threshold."""
    if not session.posargs:
        session.error("Name the lesson: nox -s lesson -- hooks")
    name, *pytest_args = session.posargs
    snippet = name.replace("-", "_")  # snippets/jacobian_assembly.py
    page = snippet.replace("_", "-")  # docs/*/jacobian-assembly.md
    if not pathlib.Path("snippets", f"{snippet}.py").is_file():
        session.error(f"No lesson {name}: there is no snippets/{snippet}.py")
    session.install(*TEST_DEPS)
    names = " or ".join(dict.fromkeys([snippet, page]))  # "hooks", "jacobian_assembly or jacobian-assembly"
    session.run("pytest", *PARALLEL, "-k", names, *pytest_args)


@nox.session
def cuda(session: nox.Session) -> None:
    """Run the snippet tests on a CUDA GPU and compare every tensor with the CPU run; skipped without CUDA."""
    session.install(*TEST_DEPS)
    probe = "import torch; print(torch.__version__, torch.cuda.is_available())"
    version, available = session.run("python", "-c", probe, silent=True).split()
    if available != "True":
        session.skip(f"CUDA is not available to torch {version}; the CUDA tests did not run.")
    session.run("pytest", "-m", "cuda", *session.posargs)


@nox.session
def serve(session: nox.Session) -> None:
    """Live preview at http://127.0.0.1:8000/<path of site_url>, re-running only the snippets you edit. `nox -s serve -- zh` for Chinese."""
    session.install(*DOCS_DEPS)
    language = session.posargs[0] if session.posargs else "en"
    session.run("mkdocs", "serve", "--config-file", CONFIGS[language], env=ENV)


@nox.session
def benchmark(session: nox.Session) -> None:
    """Time a clean build, a no-change rebuild and `import torch`, and print the clean-build ratio."""
    session.install(*DOCS_DEPS)
    session.run("python", "tests/benchmark_build.py", *CONFIGS.values(), env=ENV)
