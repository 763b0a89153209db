"""What the built wheel carries: the package, never the test suite or the benchmarks."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_namespace_packages, find_packages

ROOT = Path(__file__).resolve().parents[2]


def _shipped_packages() -> list[str]:
    """The packages setuptools puts in the wheel, found with the project's own configuration."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found = config["tool"]["setuptools"]["packages"]["find"]
    return find_packages(str(ROOT), include=found["include"], exclude=found["exclude"])


def test_no_test_or_benchmark_package_is_shipped() -> None:
    """Every package of the wheel is product code: no tests, no benchmarks."""
    shipped = _shipped_packages()
    assert "campaigns" in shipped and "campaigns.christmas_campaign.flows" in shipped
    every = find_namespace_packages(str(ROOT), include=["campaigns*"])
    left_out = sorted(set(every) - set(shipped))
    assert "campaigns.tests" in left_out and "campaigns.benchmarks" in left_out
    assert not [name for name in shipped if ".tests" in name or "benchmarks" in name]


def test_no_shipped_package_holds_a_conftest() -> None:
    """A conftest module in a shipped package would go into the wheel with it."""
    for name in _shipped_packages():
        folder = ROOT.joinpath(*name.split("."))
        assert not (folder / "conftest.py").exists(), name
