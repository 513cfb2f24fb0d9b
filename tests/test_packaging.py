"""The wheel, as the container image installs it, carries ``schemas/`` and finds it from an installed copy,
and its classification hot path is compiled (mypyc, setup.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_an_installed_wheel_ships_and_finds_its_schemas(tmp_path: Path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(ROOT)],
                   check=True, capture_output=True)  # fmt: skip
    [wheel] = (tmp_path / "dist").glob("correlator-*.whl")
    shipped = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("correlator/schemas/")}
    expected = {f"correlator/schemas/{path.relative_to(ROOT / 'schemas')}" for path in (ROOT / "schemas").rglob("*")
                if path.is_file()}  # fmt: skip
    assert shipped == expected

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)  # fmt: skip
    probe = (
        "import correlator, orjson, correlator.processing.rows\n"
        "from correlator.processing.classify import RULES_PATH, Classifier\n"
        "from correlator.warehouse.sql import render\n"
        "from correlator.schemas_dir import SCHEMAS_DIR\n"
        "sql = render('migrations/0001_tables.sql', 'db', retention_days=7)\n"
        "print(orjson.dumps({'package': correlator.__file__, 'schemas': str(SCHEMAS_DIR), 'rules': str(RULES_PATH),"
        " 'version': Classifier.from_file().version, 'sql': 'db.log_events' in sql,"
        " 'hot_path': [correlator.processing.classify.__file__, correlator.processing.rows.__file__,"
        " correlator.processing.fallback.__file__]}).decode())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, check=True)
    found = orjson.loads(done.stdout)
    assert Path(found["package"]).is_relative_to(site)
    assert Path(found["schemas"]) == site / "correlator" / "schemas"
    assert Path(found["rules"]).is_relative_to(site)
    assert found["version"] and found["sql"] is True
    for module in found["hot_path"]:
        assert Path(module).is_relative_to(site) and module.endswith(".so"), module


def test_the_emitter_installs_alone_with_only_its_own_dependencies(tmp_path: Path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
                    str(ROOT / "packaging" / "emit")], check=True, capture_output=True)  # fmt: skip
    [wheel] = (tmp_path / "dist").glob("correlator_emit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        requires = [line.split(":", 1)[1].strip() for line in archive.read(metadata).decode().splitlines()
                    if line.startswith("Requires-Dist:")]  # fmt: skip
        shipped = {name for name in archive.namelist() if not name.startswith("correlator_emit-")}
    assert sorted(re.split(r"[<>=!~ ;\[]", requirement)[0] for requirement in requires) == [
        "aiokafka", "orjson", "structlog"
    ]  # fmt: skip
    assert shipped == {"correlator/redaction.py"} | {
        f"correlator/emit/{path.name}" for path in (ROOT / "correlator" / "emit").glob("*.py")
    }

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)  # fmt: skip
    # without site processing the development install is not importable: only the wheel and the dependencies are
    dependencies = next(Path(p) for p in sys.path if p.endswith("site-packages") and (Path(p) / "orjson").exists())
    probe = (
        "import sys\n"
        f"sys.path[:0] = [{str(site)!r}]; sys.path.append({str(dependencies)!r})\n"
        "from correlator import emit\n"
        "assert emit.new_error_id()\n"
        "heavy = {'chdb', 'hyperscan', 'plotly', 'aiohttp', 'clickhouse_connect', 'pydantic'} & sys.modules.keys()\n"
        "print(emit.__file__, sorted(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-I", "-S", "-c", probe], cwd=tmp_path, capture_output=True, check=True)
    emit_file, heavy = done.stdout.decode().split(" ", 1)
    assert Path(emit_file).is_relative_to(site)
    assert heavy.strip() == "[]"
