"""tarnd's configuration and start-up rules: a config file with accounts and two keys (either
key signs), refusals that protect data and secrets, and --help."""

import base64
import json
import os
import subprocess

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.storage.filedatalake import DataLakeServiceClient

from tarn_harness import SDK_KWARGS, TarnServer, tarnd_bin, unique_name


def run_tarnd(*args, timeout=20):
    return subprocess.run([str(tarnd_bin()), *args], capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def client(srv, account, key):
    cs = (f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};"
          f"BlobEndpoint={srv.url}/{account};")
    return DataLakeServiceClient.from_connection_string(cs, **SDK_KWARGS)


def test_help_describes_the_flags():
    p = run_tarnd("--help")
    assert p.returncode == 0
    out = p.stdout.decode()
    for flag in ("--listen", "--data-dir", "--config", "--log-level"):
        assert flag in out


def test_refuses_non_loopback_with_the_development_key(tmp_path):
    # Refused before anything is bound: nothing ever listens on 0.0.0.0 here.
    p = run_tarnd("--listen", "0.0.0.0:0", "--data-dir", str(tmp_path / "d"))
    assert p.returncode != 0
    assert b"well-known development key" in p.stderr


def test_refuses_a_config_with_keys_readable_by_others(tmp_path):
    cfg = tmp_path / "tarnd.json"
    cfg.write_text(json.dumps({"accounts": [
        {"name": "lake", "keys": [base64.b64encode(os.urandom(32)).decode()]}]}))
    cfg.chmod(0o644)
    p = run_tarnd("--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                  "--config", str(cfg))
    assert p.returncode != 0
    assert b"chmod 600" in p.stderr


@pytest.mark.parametrize("timeout", [0, -5, 86401, "30"])
def test_refuses_an_idle_timeout_that_would_not_bound_waits(tmp_path, timeout):
    cfg = tmp_path / "tarnd.json"
    cfg.write_text(json.dumps({"limits": {"idle_timeout_s": timeout}}))
    cfg.chmod(0o600)
    p = run_tarnd("--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                  "--config", str(cfg))
    assert p.returncode != 0
    assert b"idle_timeout_s must be a whole number of seconds from 1 to 86400" in p.stderr


@pytest.mark.parametrize("name", ["identity", "workspaces"])
def test_refuses_account_names_that_are_tarnd_paths(tmp_path, name):
    cfg = tmp_path / "tarnd.json"
    cfg.write_text(json.dumps({"accounts": [
        {"name": name, "keys": [base64.b64encode(os.urandom(32)).decode()]}]}))
    cfg.chmod(0o600)
    p = run_tarnd("--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                  "--config", str(cfg))
    assert p.returncode != 0
    assert b"is reserved" in p.stderr


def test_configured_account_accepts_either_key(tmp_path):
    k1 = base64.b64encode(os.urandom(64)).decode()
    k2 = base64.b64encode(os.urandom(64)).decode()
    cfg = tmp_path / "tarnd.json"
    cfg.write_text(json.dumps({"accounts": [{"name": "productlake", "keys": [k1, k2]}],
                               "limits": {"max_connections": 64}}))
    cfg.chmod(0o600)
    srv = TarnServer(tmp_path / "data", tmp_path / "logs", extra_args=["--config", str(cfg)])
    srv.start()
    try:
        name = unique_name("keys")
        fs = client(srv, "productlake", k1).create_file_system(name)
        fs.get_file_client("a.txt").upload_data(b"signed with key 1", overwrite=True)
        got = (client(srv, "productlake", k2).get_file_system_client(name)
               .get_file_client("a.txt").download_file().readall())
        assert got == b"signed with key 1"
        wrong = base64.b64encode(os.urandom(64)).decode()
        with pytest.raises((ClientAuthenticationError, HttpResponseError)) as e:
            (client(srv, "productlake", wrong).get_file_system_client(name)
             .get_file_system_properties())
        assert e.value.status_code == 403
        # The development account is not served once accounts are configured.
        with pytest.raises(HttpResponseError):
            client(srv, "devstoreaccount1", srv.key).create_file_system(unique_name("dev"))
    finally:
        srv.stop()


def test_one_tarnd_per_data_directory(tmp_path):
    srv = TarnServer(tmp_path / "data", tmp_path / "logs")
    srv.start()
    try:
        p = run_tarnd("--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data"))
        assert p.returncode != 0
        assert b"in use by another tarnd" in p.stderr
        assert srv.alive()
    finally:
        srv.stop()
