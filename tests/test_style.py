"""The code base stays ruff-clean (ruff is part of the test extra)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


#: numpy functions the engine may call directly: host-side seeding and dtype limits.
HOST_NUMPY = ("random.", "iinfo", "finfo", "testing.")


def _numpy_calls(path: Path) -> list[str]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            parts, func = [], node.func
            while isinstance(func, ast.Attribute):
                parts.append(func.attr)
                func = func.value
            if isinstance(func, ast.Name) and func.id == "np":
                calls.append(f"{path.relative_to(ROOT)}:{node.lineno} np.{'.'.join(parts[::-1])}")
    return calls


def test_engine_array_code_goes_through_the_array_namespace():
    """The engine and the policies call ``xp`` (numpy or CuPy), never numpy itself, so the
    same code runs on a GPU; the only exceptions are the backend's own conversions."""
    engine = [*(ROOT / "loyaltylab" / "sim").glob("*.py"),
              *(ROOT / "loyaltylab" / "policies").glob("*.py"),
              *(ROOT / "loyaltylab" / "agents" / "terms").glob("*.py"),
              *(ROOT / "loyaltylab" / "agents" / name for name in (
                  "behaviour.py", "satisfaction.py", "redemption.py", "coupon_use.py",
                  "row_cache.py"))]
    found = [c for path in engine if path.name != "backend.py" for c in _numpy_calls(path)
             if not c.split(" np.")[1].startswith(HOST_NUMPY)]
    assert found == []
    # the check does find a direct call
    assert _numpy_calls(ROOT / "loyaltylab" / "sim" / "backend.py")
