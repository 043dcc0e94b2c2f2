"""pip install ./python: the wheel scikit-build-core builds with the project's CMake, installed
into a new virtual environment of Debian's CPython 3.11, imported with no PYTHONPATH from
outside the checkout, and used against a real tarnd: the native client, an upload, a dataset
read back, and the azureml:// scheme found by fsspec through the wheel's entry point."""

import os
import subprocess
import sys
import textwrap

from conftest import ACCOUNT, ACCOUNT_KEY, REPO, unique


def run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))}:\n{out.stdout[-3000:]}\n" \
                                f"{out.stderr[-3000:]}"
    return out.stdout


def test_the_wheel_in_a_fresh_virtual_environment(tarnd, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    # The build reuses the release build's objects through ccache, as scripts/build.sh does.
    env.update(CCACHE_BASEDIR=str(REPO), CCACHE_NOHASHDIR="1")
    env.setdefault("CCACHE_DIR", os.path.expanduser("~/.cache/ccache"))
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
         "-w", str(wheels), str(REPO / "python")], env=env)
    wheel = next(wheels.glob("tarn-*.whl"))
    venv = tmp_path / "venv"
    run(["/usr/bin/python3", "-m", "venv", str(venv)], env=env)
    run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
         "-c", str(REPO / "python" / "venv" / "constraints.txt"), f"{wheel}[fsspec]"], env=env)

    data = tmp_path / "data"
    data.mkdir()
    (data / "part-0.csv").write_text("id,amount\n1,9.5\n2,3.25\n")
    script = textwrap.dedent("""
        import sys
        import fsspec
        import tarn, tarn._native
        from tarn.core import Dataset, Datastore, Workspace, VERSION
        endpoint, key, account, name, data = sys.argv[1:6]
        assert "site-packages" in tarn._native.__file__, tarn._native.__file__
        ws = Workspace.create(name, tarn_endpoint=endpoint, account_key=key)
        store = ws.get_default_datastore()
        store.upload(src_dir=data, target_path="landing", show_progress=False)
        files = Dataset.File.from_files(path=(store, "landing")).register(ws, "landing")
        print("files", files.to_path())
        fs = fsspec.filesystem("azureml", workspace=ws)   # no import of tarn.fsspec
        with fs.open("azureml://datastores/workspaceblobstore/paths/landing/part-0.csv") as f:
            print("read", f.read().decode().splitlines()[-1])
        print("version", VERSION)
    """)
    out = run([str(venv / "bin" / "python"), "-c", script, tarnd.url, ACCOUNT_KEY, ACCOUNT,
               unique("wheel"), str(data)], env=env, cwd=str(tmp_path))
    assert "files ['/part-0.csv']" in out
    assert "read 2,3.25" in out
    assert "version 0.1.0" in out
