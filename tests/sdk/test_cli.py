"""The tarn CLI against a real tarnd, and agreement between the CLI and the SDK."""

import json
import os
import subprocess

import pytest

from conftest import CLI_BIN, unique


def tarn_cli(server, ws, *args, expect=0, cwd=None):
    env = dict(os.environ, TARN_ENDPOINT=server.url)
    env.pop("TARN_ACCOUNT_KEY", None)
    if ws:
        env["TARN_WORKSPACE"] = ws
    r = subprocess.run([str(CLI_BIN), *args], env=env, capture_output=True, text=True,
                       timeout=120, cwd=cwd)
    assert r.returncode == expect, (args, r.returncode, r.stdout, r.stderr)
    return r


def cli_json(server, ws, *args):
    return json.loads(tarn_cli(server, ws, "--json", *args).stdout)


@pytest.fixture(autouse=True)
def need_cli():
    if not CLI_BIN.exists():
        pytest.fail(f"tarn CLI not built at {CLI_BIN}")


def test_help_at_every_level(tarn):
    for args in ([], ["workspace"], ["datastore"], ["dataset"], ["dataset", "create"],
                 ["dataset", "download"], ["dataset", "mount"], ["datastore", "register"]):
        r = tarn_cli(tarn, None, *args, "--help")
        assert "Usage" in r.stdout or "usage" in r.stdout.lower()
    r = tarn_cli(tarn, None, expect=106)  # CLI11: a subcommand is required
    assert "subcommand" in (r.stderr + r.stdout).lower()


def test_workspace_and_datastore_commands(tarn, lake):
    name = unique("cliws-")
    w = cli_json(tarn, None, "workspace", "create", name, "--subscription-id", "s1",
                 "--resource-group", "r1")
    assert w["name"] == name and w["subscription_id"] == "s1"
    assert name in tarn_cli(tarn, None, "workspace", "list").stdout
    assert cli_json(tarn, name, "workspace", "show")["resource_group"] == "r1"
    d = cli_json(tarn, name, "datastore", "register", "lake_1", "--filesystem", lake.name,
                 "--account-key", tarn.key)
    assert d["credential_type"] == "account_key" and d["local"] is True
    assert tarn.key not in json.dumps(d)
    tarn_cli(tarn, name, "datastore", "set-default", "lake_1")
    assert cli_json(tarn, name, "datastore", "show")["name"] == "lake_1"
    table = tarn_cli(tarn, name, "datastore", "list").stdout
    assert table.splitlines()[0].split()[:3] == ["NAME", "ACCOUNT", "FILESYSTEM"]
    assert "lake_1" in table
    r = tarn_cli(tarn, name, "datastore", "register", "lake_1", "--filesystem", lake.name,
                 "--account-key", tarn.key, expect=4)
    assert "DatastoreAlreadyExists" in r.stderr
    r = tarn_cli(tarn, name, "datastore", "show", "nope", expect=3)
    assert "DatastoreNotFound" in r.stderr and "nope" in r.stderr
    tarn_cli(tarn, name, "datastore", "unregister", "lake_1")
    tarn_cli(tarn, name, "workspace", "delete", name)
    tarn_cli(tarn, name, "workspace", "show", expect=3)


def test_cli_and_sdk_agree(tarn, ws, store, lake, tmp_path):
    lake.write("docs/a.txt", "alpha")
    lake.write("docs/b/c.txt", "gamma" * 1000)
    v = cli_json(tarn, ws.name, "dataset", "create", "docs", "--kind", "file", "--datastore",
                 store.name, "--path", "docs/**", "--description", "some docs", "--tag", "k=v")
    assert v["version"] == 1
    from tarn.core import Dataset
    ds = Dataset.get_by_name(ws, "docs")
    shown = cli_json(tarn, ws.name, "dataset", "show", "docs")
    assert shown["name"] == ds.name and shown["version"] == ds.version
    assert shown["id"] == ds.id and shown["description"] == ds.description
    assert shown["tags"] == ds.tags
    assert shown["data_changed_time"].startswith(ds.data_changed_time.strftime("%Y-%m-%dT%H:%M"))
    human = tarn_cli(tarn, ws.name, "dataset", "show", "docs").stdout
    assert ds.id in human and "some docs" in human
    listed = cli_json(tarn, ws.name, "dataset", "list")["datasets"]
    assert {d["name"] for d in listed} == set(Dataset.get_all(ws))
    versions = cli_json(tarn, ws.name, "dataset", "versions", "docs")["versions"]
    assert [x["version"] for x in versions] == [1]

    out = tmp_path / "dl"
    r = tarn_cli(tarn, ws.name, "dataset", "download", "docs", "--target", str(out))
    assert "downloaded 2 files" in r.stdout
    assert (out / "docs" / "b" / "c.txt").read_text() == "gamma" * 1000
    r = tarn_cli(tarn, ws.name, "dataset", "download", "docs", "--target", str(out), expect=4)
    assert "--overwrite" in r.stderr
    tarn_cli(tarn, ws.name, "dataset", "download", "docs", "--target", str(out), "--overwrite")
    assert not [p for p in out.rglob("*") if ".tarn-" in p.name]  # no temporaries left

    a = cli_json(tarn, ws.name, "dataset", "archive", "docs", "--version", "1")
    assert a["state"] == "archived"
    assert Dataset.get_by_name(ws, "docs", version=1).is_archived
    tarn_cli(tarn, ws.name, "dataset", "archive", "docs", "-v", "1", "--reactivate")


def test_tabular_commands(tarn, ws, store, lake):
    import tarn._native as native
    if not native.HAVE_TABULAR:
        pytest.skip("this build has no tabular engine (DuckDB)")
    lake.write("s/a.csv", "region,amount\neu,1.5\nus,2.5\neu,\n")
    v = cli_json(tarn, ws.name, "dataset", "create", "sales", "--datastore", store.name,
                 "--path", "s/*.csv")
    assert v["row_count"] == 3
    rows = cli_json(tarn, ws.name, "dataset", "preview", "sales", "-n", "2")
    assert rows == [{"region": "eu", "amount": 1.5}, {"region": "us", "amount": 2.5}]
    table = tarn_cli(tarn, ws.name, "dataset", "preview", "sales").stdout
    assert table.splitlines()[0].split() == ["region", "amount"]
    prof = cli_json(tarn, ws.name, "dataset", "profile", "sales")
    by = {c["name"]: c for c in prof["profile"]}
    assert by["amount"]["nulls"] == 1
    from tarn.core import Dataset
    sdk = Dataset.get_by_name(ws, "sales").get_profile()
    assert sdk.columns["amount"].missing_count == by["amount"]["nulls"]
    assert sdk.row_count == prof["row_count"] == 3


def test_cli_errors_name_the_problem(tarn, ws, store):
    r = tarn_cli(tarn, ws.name, "dataset", "show", "missing", expect=3)
    assert "DatasetNotFound" in r.stderr
    r = tarn_cli(tarn, ws.name, "dataset", "create", "x", "--datastore", store.name, expect=1)
    assert "--path" in r.stderr
    r = tarn_cli(tarn, ws.name, "dataset", "create", "x", "--datastore", store.name, "--path",
                 "nothing/*.csv", expect=1)
    assert "EmptyDataset" in r.stderr
    r = tarn_cli(tarn, None, "dataset", "list", expect=1, cwd="/")
    assert "no workspace" in r.stderr
    r = tarn_cli(tarn, "nowhere", "dataset", "list", expect=3)
    assert "WorkspaceNotFound" in r.stderr or "does not exist" in r.stderr
    assert "tarn workspace create nowhere" in r.stderr
    env = dict(os.environ, TARN_ENDPOINT="http://10.255.255.1:1")
    env.pop("TARN_ACCOUNT_KEY", None)
    r = subprocess.run([str(CLI_BIN), "workspace", "list"], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 5 and "tarn login" in r.stderr and "TARN_ACCOUNT_KEY" in r.stderr


def test_identity_commands(tarn):
    """tarn tenant|principal|secret|group|role|audit over the /identity admin API; the secret
    shown once is the one the token service then accepts."""
    import requests
    tenant = cli_json(tarn, None, "tenant", "create", "--name", "contoso")["tenant_id"]
    sp = cli_json(tarn, None, "principal", "create", "--tenant", tenant, "--name", "trainer")
    listed = cli_json(tarn, None, "principal", "list", "--tenant", tenant)["principals"]
    assert [p["object_id"] for p in listed] == [sp["object_id"]]
    secret = cli_json(tarn, None, "secret", "add", sp["object_id"], "--days", "7")
    assert secret["secret"] and secret["hint"] == secret["secret"][:3]
    shown = cli_json(tarn, None, "principal", "show", sp["object_id"])
    assert secret["secret"] not in json.dumps(shown)
    group = cli_json(tarn, None, "group", "create", "--tenant", tenant, "--name", "etl")
    tarn_cli(tarn, None, "group", "add-member", group["object_id"], sp["object_id"])
    ra = cli_json(tarn, None, "role", "assign", "--principal", group["object_id"], "--role",
                  "Storage Blob Data Reader", "--scope", f"/{tarn.account}")
    assert ra["id"] in [r["id"] for r in
                        cli_json(tarn, None, "role", "list")["role_assignments"]]
    r = tarn_cli(tarn, None, "role", "assign", "--principal", sp["object_id"], "--role", "Root",
                 "--scope", "/x", expect=1)
    assert "Storage Blob Data Reader" in r.stderr
    token = requests.post(f"{tarn.https_url}/{tenant}/oauth2/v2.0/token", verify=tarn.ca_file,
                          timeout=30, data={"grant_type": "client_credentials",
                                            "client_id": sp["app_id"],
                                            "client_secret": secret["secret"],
                                            "scope": "https://storage.azure.com/.default"})
    assert token.status_code == 200, token.text
    tarn_cli(tarn, None, "secret", "remove", sp["object_id"], secret["secret_id"])
    events = cli_json(tarn, None, "audit", "--action", "AssignRole", "--limit", "1000")
    assert any(e["resource"] == "/identity/role-assignments" for e in events["events"])
    table = tarn_cli(tarn, None, "audit", "--result", "failed").stdout
    assert "RESULT" in table
    tarn_cli(tarn, None, "principal", "delete", sp["object_id"])
    tarn_cli(tarn, None, "principal", "show", sp["object_id"], expect=3)


needs_fuse = pytest.mark.skipif(not os.path.exists("/dev/fuse"),
                                reason="FUSE mounts need /dev/fuse")


@needs_fuse
def test_dataset_mount_serves_the_registered_bytes_read_only(tarn, ws, store, lake, tmp_path):
    """tarn dataset mount: a version as a read-only FUSE filesystem until SIGINT. It shows the
    version's files (relative to their common directory) with their registered bytes, even
    after the lake files are overwritten, and refuses writes."""
    import signal
    lake.write("imgs/train/a.bin", "A" * 300_000)
    lake.write("imgs/train/sub/b.bin", "b-bytes")
    lake.fs.get_file_client("imgs/test/c.bin").create_file()  # upload_data skips empty data
    cli_json(tarn, ws.name, "dataset", "create", "imgs", "--kind", "file", "--datastore",
             store.name, "--path", "imgs/**")
    lake.write("imgs/train/sub/b.bin", "overwritten")
    point = tmp_path / "mnt"
    point.mkdir()
    env = dict(os.environ, TARN_ENDPOINT=tarn.url, TARN_WORKSPACE=ws.name)
    proc = subprocess.Popen([str(CLI_BIN), "dataset", "mount", "imgs", str(point)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "mounted imgs version 1" in line, (line, proc.stderr.read() if proc.poll() else "")
        assert os.path.ismount(point)
        found = sorted(str(p.relative_to(point)) for p in point.rglob("*") if p.is_file())
        assert found == ["test/c.bin", "train/a.bin", "train/sub/b.bin"]
        assert (point / "train" / "a.bin").read_bytes() == b"A" * 300_000
        assert (point / "train" / "sub" / "b.bin").read_bytes() == b"b-bytes"
        assert (point / "test" / "c.bin").stat().st_size == 0
        with pytest.raises(OSError):
            (point / "train" / "new.bin").write_bytes(b"x")
        with pytest.raises(OSError):
            open(point / "train" / "a.bin", "r+b")
        assert not (point / "nope").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, proc.stderr.read()
    assert not os.path.ismount(point) and list(point.iterdir()) == []
    # A mount point that is not an empty directory is refused, saying why.
    (point / "x").write_text("x")
    r = tarn_cli(tarn, ws.name, "dataset", "mount", "imgs", str(point), expect=1)
    assert "not empty" in r.stderr


# ----- people: tarn login / logout (issue 12) ----------------------------------------------------

PASSWORD = "correct horse battery"


def _user(tarn, upn, workspace_role=None, ws=None):
    """A user with a password (set with `tarn principal password`) and a workspace role."""
    from identity_admin import Directory
    d = Directory(tarn)
    tenant = d.tenant()
    u = d.call("POST", f"/tenants/{tenant}/principals",
               {"kind": "user", "display_name": upn.split("@")[0], "upn": upn}, 201)
    r = subprocess.run([str(CLI_BIN), "principal", "password", u["object_id"], "--password-stdin"],
                       env=dict(os.environ, TARN_ENDPOINT=tarn.url), input="short\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "12 to 256" in r.stderr, r.stderr
    r = subprocess.run([str(CLI_BIN), "principal", "password", u["object_id"], "--password-stdin"],
                       env=dict(os.environ, TARN_ENDPOINT=tarn.url), input=PASSWORD + "\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Set the password" in r.stdout, r.stderr
    if workspace_role:
        d.assign(u["object_id"], workspace_role, f"/workspaces/{ws}")
    return d, tenant, u


def test_login_with_a_password_then_the_cli_acts_as_the_user(tarn, ws, store, lake, tmp_path):
    """`tarn login --username` keeps a refresh token (never the password) in a 0600 file of a
    0700 directory; every later command calls tarnd as that user with workspace tokens, so a
    Reader lists and reads but cannot register, and sees only the workspaces it has a role on.
    `tarn logout` forgets it."""
    lake.write("people/a.csv", "x\n1\n")
    cli_json(tarn, ws.name, "dataset", "create", "people", "--kind", "file", "--datastore",
             store.name, "--path", "people/*.csv")
    d, tenant, u = _user(tarn, "ada.cli@contoso.example", "Reader", ws.name)
    home = tmp_path / "home"
    env = dict(os.environ, TARN_HOME=str(home), TARN_ENDPOINT=tarn.url, TARN_WORKSPACE=ws.name)
    env.pop("TARN_ACCOUNT_KEY", None)

    def run(*args, expect=0, stdin=None):
        r = subprocess.run([str(CLI_BIN), *args], env=env, capture_output=True, text=True,
                           input=stdin, timeout=120)
        assert r.returncode == expect, (args, r.returncode, r.stdout, r.stderr)
        return r

    # The http endpoint is refused for signing in: passwords travel only over TLS.
    r = run("login", "--tenant", tenant, "-u", "ada.cli@contoso.example", "--password-stdin",
            stdin=PASSWORD + "\n", expect=1)
    assert "https" in r.stderr
    r = run("login", "--endpoint", tarn.https_url, "--tenant", tenant, "-u",
            "ada.cli@contoso.example", "--password-stdin", "--ca-file", tarn.ca_file,
            stdin=PASSWORD + "\n")
    assert "Signed in to %s as ada.cli@contoso.example" % tarn.https_url in r.stdout
    kept = home / "login.json"
    assert oct(kept.stat().st_mode & 0o777) == "0o600" and oct(home.stat().st_mode & 0o777) == "0o700"
    assert PASSWORD not in kept.read_text() and json.loads(kept.read_text())["refresh_token"]
    # Every command now goes to the login's https endpoint with the user's tokens.
    listed = json.loads(run("--json", "workspace", "list").stdout)["workspaces"]
    assert [w["name"] for w in listed] == [ws.name]
    names = [x["name"] for x in json.loads(run("--json", "dataset", "list").stdout)["datasets"]]
    assert "people" in names
    out = tmp_path / "dl"
    run("dataset", "download", "people", "--target", str(out))
    assert (out / "people" / "a.csv").read_text() == "x\n1\n"
    r = run("dataset", "create", "mine", "--kind", "file", "--datastore", store.name, "--path",
            "people/*.csv", expect=5)
    assert "AuthorizationFailed" in r.stderr
    # The directory is for account owners: a Reader of a workspace is refused.
    run("tenant", "list", expect=5)
    # A login readable by others is refused until it is private again.
    kept.chmod(0o644)
    r = run("workspace", "list", expect=4)
    assert "chmod 600" in r.stderr
    kept.chmod(0o600)
    r = run("logout")
    assert "Signed out" in r.stdout and not kept.exists()
    assert "Not signed in" in run("logout").stdout
    # Signed out, a non-loopback endpoint says how to sign in.
    env["TARN_ENDPOINT"] = "https://10.255.255.1:1"
    r = run("workspace", "list", expect=5)
    assert "tarn login" in r.stderr


def test_login_with_a_device_code(tarn, ws, tmp_path):
    """`tarn login` without --username prints a code and tarnd's page; the person completes
    the page (here over HTTP with requests, as a browser would) and the CLI is signed in."""
    import re
    import requests
    d, tenant, u = _user(tarn, "bo.cli@contoso.example", "AzureML Data Scientist", ws.name)
    home = tmp_path / "home"
    env = dict(os.environ, TARN_HOME=str(home), TARN_ENDPOINT=tarn.https_url,
               TARN_TENANT=tenant, TARN_CA_FILE=tarn.ca_file)
    env.pop("TARN_ACCOUNT_KEY", None)
    p = subprocess.Popen([str(CLI_BIN), "login"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stderr.readline()
        m = re.search(r"open the page (\S+) and enter the code (\S+) ", line)
        assert m, line
        uri, code = m.groups()
        r = requests.post(uri, verify=tarn.ca_file, timeout=30,
                          data={"code": code, "username": "bo.cli@contoso.example",
                                "password": PASSWORD})
        assert r.status_code == 200, r.text
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, (out, err)
    assert "as bo.cli@contoso.example" in out
    r = subprocess.run([str(CLI_BIN), "--json", "workspace", "show", ws.name], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout)["name"] == ws.name, r.stderr
