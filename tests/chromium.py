"""``correlator report`` as a person sees it: written to a file and rendered by headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from correlator.commands.cli import main
from correlator.config import Settings


def rendered_report(settings: Settings, tmp_path: Path, *arguments: str) -> str:
    """The DOM after Chromium ran the page's scripts; ``arguments`` go to ``correlator report``."""
    output = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", *arguments, "-o", str(output), "--clickhouse",
                                       settings.clickhouse_url, "--database", settings.database])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = output.read_text()
    assert not re.search(r"<(?:script|link)[^>]+(?:src|href)=[\"']https?:", page)  # nothing fetched from the network
    chromium = shutil.which("chromium")
    assert chromium, "the test command installs Debian's chromium (see README)"
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", "--dump-dom", output.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
