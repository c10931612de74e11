"""Build the krew archive of the ``kubectl-hsvc`` launcher, the same bytes every time.

The archive is a zip of one file, stored (not compressed) with a fixed date and
mode, so its sha256 depends only on the launcher's text: ``plugins/hsvc.yaml``
records it, and a test rebuilds the archive to check the two still agree.

Usage (at release, attach the archive to the GitHub release the manifest names)::

    python plugins/krew_archive.py [OUT_DIR]
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "kubectl-hsvc"
ARCHIVE = "kubectl-hsvc-launcher.zip"


def build(out_dir: Path) -> tuple[Path, str]:
    """Write the archive into ``out_dir``; return its path and sha256."""
    out = out_dir / ARCHIVE
    info = zipfile.ZipInfo(LAUNCHER.name, date_time=(1980, 1, 1, 0, 0, 0))
    info.create_system = 3  # Unix, so that the mode below is kept
    info.external_attr = (0o100755 & 0xFFFF) << 16
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(info, LAUNCHER.read_bytes())
    return out, hashlib.sha256(out.read_bytes()).hexdigest()


def main() -> None:
    """Build the archive into the folder given (default: the current one) and report it."""
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    out_dir.mkdir(parents=True, exist_ok=True)
    path, digest = build(out_dir)
    print(f"{path}\nsha256: {digest}")  # noqa: T201 - a release helper, not hsvc


if __name__ == "__main__":
    main()
