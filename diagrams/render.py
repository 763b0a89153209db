"""Render Mermaid files to PNG with headless Chromium (stdlib only).

    python3 diagrams/render.py --mermaid /tmp/mmd/node_modules/mermaid/dist/mermaid.min.js \
        diagrams/*.mmd

Each `name.mmd` becomes `name.png` beside it. A first Chromium pass renders the diagram and
measures it; the second takes a screenshot exactly that size, so there are no empty margins.
Everything temporary (the HTML page, Chromium profiles) goes into a scratch folder under /tmp.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<style>html,body{{margin:0;padding:0;background:#fff}} #d{{display:inline-block;padding:16px}}</style>
<script src="{mermaid}"></script></head><body><div id="d"></div><pre id="size" style="display:none"></pre>
<script>
mermaid.initialize({{startOnLoad: false, theme: 'default', fontFamily: 'DejaVu Sans, Arial, sans-serif',
  flowchart: {{useMaxWidth: false, htmlLabels: true, wrappingWidth: 320}},
  sequence: {{useMaxWidth: false}}}});
mermaid.render('g', {text}).then(r => {{
  const d = document.getElementById('d');
  d.innerHTML = r.svg;
  const b = d.getBoundingClientRect();
  document.getElementById('size').textContent = 'SIZE ' + Math.ceil(b.width) + ' ' + Math.ceil(b.height);
}}).catch(e => {{ document.getElementById('size').textContent = 'ERROR ' + e; }});
</script></body></html>
"""

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
    "--virtual-time-budget=5000",
]


def chromium(binary: str, scratch: Path, page: Path, *extra: str) -> str:
    profile = tempfile.mkdtemp(dir=scratch)
    result = subprocess.run(  # noqa: S603 - fixed arguments, local files only
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return result.stdout


def render(source: Path, mermaid_js: Path, binary: str, scale: float, scratch: Path) -> Path:
    page = Path(tempfile.mkdtemp(dir=scratch)) / "page.html"
    text = json.dumps(source.read_text(encoding="utf-8"))
    page.write_text(PAGE.format(mermaid=mermaid_js.as_uri(), text=text), encoding="utf-8")
    dom = chromium(binary, scratch, page, "--dump-dom", "--window-size=6000,6000")
    size = re.search(r"SIZE (\d+) (\d+)", dom)
    if size is None:
        error = re.search(r"ERROR[^<]*", dom)
        raise SystemExit(f"{source}: {error.group(0) if error else 'Mermaid did not render'}")
    # Mermaid's viewBox can clip the last few pixels of a subgraph border: keep a small margin.
    width, height = int(size.group(1)) + 24, int(size.group(2)) + 24
    target = source.with_suffix(".png")
    chromium(
        binary,
        scratch,
        page,
        f"--screenshot={target}",
        f"--window-size={width},{height}",
        f"--force-device-scale-factor={scale}",
        "--hide-scrollbars",
    )
    print(f"{target}: {width}x{height} CSS px, {target.stat().st_size // 1024} KB")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description="Render Mermaid files to PNG.")
    parser.add_argument("files", nargs="+", type=Path, help=".mmd files")
    parser.add_argument("--mermaid", required=True, type=Path, help="path to mermaid.min.js")
    parser.add_argument("--chromium", default="chromium", help="Chromium binary")
    parser.add_argument("--scale", type=float, default=1.0, help="device scale factor")
    args = parser.parse_args()
    if shutil.which(args.chromium) is None:
        raise SystemExit(f"{args.chromium} not found (apt-get install -y chromium)")
    scratch = Path(tempfile.mkdtemp(prefix="mermaid-render-"))
    try:
        for source in args.files:
            render(source.resolve(), args.mermaid.resolve(), args.chromium, args.scale, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
