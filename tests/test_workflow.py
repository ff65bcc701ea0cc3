"""The GitHub Actions workflow that publishes the book: its syntax, and that it runs what CI runs."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PAGES = ROOT / ".github" / "workflows" / "pages.yml"


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as the boolean true
        data["on"] = data.pop(True)
    return data


def makefile_targets() -> set[str]:
    return {m[1] for line in (ROOT / "Makefile").read_text().splitlines()
            if (m := re.match(r"([A-Za-z0-9_.-]+)\s*:(?!=)", line))}


def make_calls(script: str) -> list[str]:
    """The targets of every `make` in a shell script; `bash .ci/run` counts as what it runs."""
    targets = []
    for line in script.splitlines():
        line = line.split("#")[0]
        for command in re.split(r"&&|\|\||;|\|", line):
            words = shlex.split(command)
            if words[:1] == ["make"]:
                called = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
                targets += called or ["<default>"]
            elif words[:2] == ["bash", ".ci/run"]:
                targets += make_calls((ROOT / ".ci" / "run").read_text())
    return targets


def workflow_make_calls(data: dict) -> list[str]:
    return [t for job in data["jobs"].values() for step in job["steps"] if "run" in step
            for t in make_calls(step["run"])]


def test_there_is_a_pages_workflow():
    assert PAGES in WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_syntax(path):
    data = load(path)
    assert isinstance(data.get("name"), str)
    assert data["on"], "no trigger"
    assert isinstance(data["jobs"], dict) and data["jobs"]
    for name, job in data["jobs"].items():
        assert "runs-on" in job, name
        needs = job.get("needs", [])
        assert set([needs] if isinstance(needs, str) else needs) <= set(data["jobs"]), name
        assert job["steps"], name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), f"{name}: a step needs exactly one of uses and run: {step}"
            if "uses" in step:  # an action at a release, not at a moving branch
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", step["uses"]), step["uses"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_make_targets_it_calls_exist(path):
    calls = workflow_make_calls(load(path))
    missing = sorted(set(calls) - makefile_targets())
    assert not missing, f"{path.name} calls make targets the Makefile lacks: {missing}"


def test_the_make_targets_that_make_calls_exist():
    calls = re.findall(r"\$\(MAKE\)\s+([\w.-]+)", (ROOT / "Makefile").read_text())
    assert calls and not sorted(set(calls) - makefile_targets())


def test_pages_runs_what_ci_runs_and_the_readme_command_then_deploys_the_html():
    data = load(PAGES)
    calls = workflow_make_calls(data)
    assert set(make_calls((ROOT / ".ci" / "run").read_text())) <= set(calls), "not the targets of .ci/run"
    assert "test" in calls and "book" in calls
    assert calls.index("test") < calls.index("book"), "the book is built after the tests"
    assert "push" in data["on"] and data["on"]["push"]["branches"] == ["main"]

    steps = [s for job in data["jobs"].values() for s in job["steps"]]
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    deploy = [s for s in steps if s.get("uses", "").startswith("actions/deploy-pages@")]
    assert len(upload) == 1 and len(deploy) == 1
    book_html = re.search(r"^BOOK_HTML := (.+)$", (ROOT / "Makefile").read_text(), re.M)[1]
    assert upload[0]["with"]["path"] == str(Path(book_html).parent)  # _build/html

    (deploy_job,) = [job for job in data["jobs"].values() if deploy[0] in job["steps"]]
    assert deploy_job["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy_job["environment"]["name"] == "github-pages"
    assert "refs/heads/main" in deploy_job["if"], "only main is deployed"
