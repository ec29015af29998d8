"""What runs is what ships: the shop's wheel, installed alone, migrates a database and serves
the storefront; the Stripe stand-in is not in it.

The fresh environment gets the shop only from the wheel. Its third-party libraries come
from this environment's site-packages, added by a .pth line (a .pth inside that folder is
not run, so this checkout's editable installs stay out), which keeps the test offline and
quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What the app reads from disk at run time, by where it sits in the wheel.
NEEDED = [
    "shop/templates/base.html",
    "shop/templates/storefront/index.html",
    "shop/templates/email/receipt.html",
    "shop/static/shop.css",
    "shop/static/fonts/",
    "shop/translations/en_GB/LC_MESSAGES/messages.mo",
    "shop/migrations/env.py",
    "shop/migrations/script.py.mako",
    "shop/migrations/versions/",
    "shop/staff/common-passwords.txt.gz",
    "tasks/worker.py",
]

SEED_AND_SERVE_THE_STOREFRONT = """
import stripe_emulator_absent, shop
from shop import create_app
app = create_app()
seeded = app.test_cli_runner().invoke(args=["seed"])
assert seeded.exit_code == 0, seeded.output
response = app.test_client().get("/")
print(response.status_code, shop.__file__, app.template_folder)
print(response.get_data(as_text=True))
"""


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_wheel_alone_migrates_and_serves_the_storefront(tmp_path: Path) -> None:
    # The build backend pyproject.toml names, called as pip would but without its start-up.
    built = _run(sys.executable, "-c", "import sys; from hatchling.build import build_wheel; "
                 "print(build_wheel(sys.argv[1]))", tmp_path, cwd=ROOT).stdout.strip()
    wheel = tmp_path / built
    names = zipfile.ZipFile(wheel).namelist()
    for needed in NEEDED:
        assert any(name.startswith(needed) for name in names), f"{needed} is not in the wheel"
    assert any(name.endswith(".ttf") for name in names)
    assert not [name for name in names if name.startswith("stripe_emulator")]
    assert not [name for name in names if name.startswith(("tests/", "bench/"))]

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    fresh_site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                         "['purelib'])", cwd=tmp_path).stdout.strip())
    (fresh_site / "libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel, cwd=tmp_path)
    (fresh_site / "stripe_emulator_absent.py").write_text(
        "import importlib.util\n"
        "assert importlib.util.find_spec('stripe_emulator') is None, 'the stand-in is here'\n")

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "FLASK_", "VIRTUAL_ENV"))}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}", "REDIS_URL": ""}
    upgraded = _run(python, "-m", "flask", "--app", "shop", "db", "upgrade", cwd=run_dir,
                    env=env)
    assert "Running upgrade" in upgraded.stderr

    served = _run(python, "-c", SEED_AND_SERVE_THE_STOREFRONT, cwd=run_dir, env=env).stdout
    status, module, templates = served.splitlines()[0].split()
    assert status == "200"
    assert Path(module).is_relative_to(fresh_site)
    assert Path(templates).is_relative_to(fresh_site)
    assert "Ten-pack" in served or "ten-pack" in served.lower()
