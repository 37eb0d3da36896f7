"""The image's requirements, one a line, from pyproject.toml: the project's dependencies and
the extras a container needs (PostgreSQL, s3://), TensorFlow as its CPU-only build where
one is published (x86_64: 1.3 GB installed, against 1.9 GB with its GPU kernels)."""

import platform
import re
import sys

import tomllib

EXTRAS = ("postgres", "s3")


def requirements(pyproject: dict, machine: str) -> list[str]:
    project = pyproject["project"]
    wanted = list(project["dependencies"]) + [r for extra in EXTRAS for r in project["optional-dependencies"][extra]]
    if machine in ("x86_64", "AMD64"):
        wanted = [re.sub(r"^tensorflow(?=[<>=!~ ]|$)", "tensorflow-cpu", r) for r in wanted]
    return wanted


if __name__ == "__main__":
    with open(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml", "rb") as f:
        print("\n".join(requirements(tomllib.load(f), platform.machine())))
