"""A plain `pip install .` must carry every file the program reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ivr", "callflows", "queues", "agents")


def test_the_wheel_holds_every_file_of_the_packages(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path)], check=True)
    wheel, = tmp_path.glob("*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", *PACKAGES], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    wanted = {p for p in tracked if not p.endswith(".md")}  # prose is not read at run time
    missing = sorted(wanted - inside)
    assert not missing, f"not in the wheel: {missing}"
    for needed in ("ivr/flows/311.yaml", "ivr/defaults/config.yaml", "ivr/data/services.yaml",
                   "ivr/migrations/env.py", "queues/scripts/push.lua"):
        assert needed in inside
