"""The wheel, as the container image installs it, carries ``schemas/`` and finds it from an installed copy,
and its classification hot path is compiled (mypyc, setup.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]


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
        " 'hot_path': [correlator.processing.classify.__file__, correlator.processing.rows.__file__]}).decode())\n"
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
