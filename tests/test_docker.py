"""The Docker images' recipe: their requirements from pyproject.toml, and the README's Docker
commands being the ones docker/test.sh runs (and CI with it)."""

from __future__ import annotations

import importlib.util
import re
import shlex

import tomllib
from conftest import ROOT


def _requirements_module():
    spec = importlib.util.spec_from_file_location("docker_requirements", ROOT / "docker" / "requirements.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_image_requirements_take_cpu_tensorflow_and_the_container_extras():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = _requirements_module().requirements
    on_x86 = requirements(pyproject, "x86_64")
    names = [re.split(r"[<>=!~\[ ]", r)[0] for r in on_x86]
    assert "tensorflow-cpu" in names and "tensorflow" not in names
    tensorflow = next(r for r in pyproject["project"]["dependencies"] if r.startswith("tensorflow"))
    assert tensorflow.replace("tensorflow", "tensorflow-cpu", 1) in on_x86  # the same versions
    assert {"psycopg", "s3fs", "keras", "pandas"} <= set(names)
    assert len(on_x86) == len(pyproject["project"]["dependencies"]) + 2
    # no CPU-only build is published for ARM: the regular one there
    assert "tensorflow" in [re.split(r"[<>=!~\[ ]", r)[0] for r in requirements(pyproject, "aarch64")]


def _readme_docker_commands() -> list[tuple[str, list[str]]]:
    section = (ROOT / "README.md").read_text().split("## Docker\n", 1)[1].split("\n## ", 1)[0]
    runs = []
    for block in re.findall(r"```\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            if line.startswith("docker run"):
                words = shlex.split(line)
                image = next(i for i, w in enumerate(words) if w.startswith("syngen"))
                assert words[:image] == ["docker", "run", "--rm", "-v", "PATH_TO_LOCAL_FOLDER:/src/model_artifacts"]
                runs.append((words[image], words[image + 1 :]))
    return runs


def test_readme_docker_commands_are_the_ones_the_script_runs():
    script = (ROOT / "docker" / "test.sh").read_text()
    ran = [shlex.split(line)[1:] for line in script.splitlines() if re.match(r"run syngen-(train|infer) ", line)]
    readme = _readme_docker_commands()
    assert len(readme) == 5  # train and infer, one table and linked, and a database output
    assert [(words[0], words[1:]) for words in ran] == readme
    assert "docker/test.sh" in (ROOT / ".ci" / "run").read_text()
