"""Access tiers and stored access policies (issue 16), with Microsoft's Blob SDK.

Tiers: Set Blob Tier and an upload's tier are stored and returned (Get Blob Properties, List
Blobs), as on Azure; Tarn keeps every tier's bytes the same way, so a Cool or Archive blob reads
at once. Stored access policies: Set/Get Container ACL keep up to five named policies, a service
SAS that names one (si=) gets its start, expiry and permissions from it, and changing or
removing the policy changes what the SAS may do on the next request."""

from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.storage.blob import (AccessPolicy, BlobSasPermissions, ContainerClient,
                                ContainerSasPermissions, PublicAccess, StandardBlobTier,
                                generate_blob_sas,
                                generate_container_sas)

from sharedkey import ACCOUNT, ACCOUNT_KEY, RawClient
from tarn_harness import SDK_KWARGS


def test_tiers_are_stored_and_returned(tarn, container):
    b = container.upload_blob("cold/data.bin", b"x" * 100)
    p = b.get_blob_properties()
    assert p.blob_tier == "Hot" and p.blob_tier_inferred is True
    etag = p.etag
    b.set_standard_blob_tier("Cool")
    p = b.get_blob_properties()
    assert p.blob_tier == "Cool" and not p.blob_tier_inferred
    assert p.blob_tier_change_time is not None
    assert p.etag == etag  # the tier is not the content
    assert b.download_blob().readall() == b"x" * 100
    b.set_standard_blob_tier("Archive")
    assert b.get_blob_properties().blob_tier == "Archive"
    assert b.download_blob().readall() == b"x" * 100  # Tarn's tiers change no bytes
    # An upload may choose its tier; list_blobs shows each blob's.
    container.upload_blob("cold/other.bin", b"y", standard_blob_tier=StandardBlobTier.COOL)
    container.upload_blob("cold/third.bin", b"z").set_standard_blob_tier("Cold")
    tiers = {x.name: x.blob_tier for x in container.list_blobs(name_starts_with="cold/")}
    assert tiers == {"cold/data.bin": "Archive", "cold/other.bin": "Cool",
                     "cold/third.bin": "Cold"}
    # Only block blob tiers.
    with pytest.raises(HttpResponseError) as e:
        b.set_premium_page_blob_tier("P10")
    assert e.value.status_code == 400 and e.value.error_code == "InvalidHeaderValue"


def test_tier_of_a_batch_and_of_a_missing_blob(tarn, container):
    for n in ("a", "b"):
        container.upload_blob(n, n.encode())
    assert [r.status_code for r in container.set_standard_blob_tier_blobs("Cool", "a", "b")] \
        == [200, 200]
    assert {x.name: x.blob_tier for x in container.list_blobs()} == {"a": "Cool", "b": "Cool"}
    with pytest.raises(HttpResponseError) as e:
        container.get_blob_client("missing").set_standard_blob_tier("Cool")
    assert e.value.status_code == 404


def sas_client(tarn, container, **kwargs):
    sas = generate_container_sas(ACCOUNT, container.container_name, ACCOUNT_KEY, **kwargs)
    return ContainerClient(f"{tarn.url}/{ACCOUNT}", container.container_name, credential=sas,
                           **SDK_KWARGS)


def test_stored_access_policies_round_trip(tarn, container):
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    expiry = datetime(2099, 1, 1, tzinfo=timezone.utc)
    container.set_container_access_policy(
        signed_identifiers={
            "readers": AccessPolicy(permission=ContainerSasPermissions(read=True, list=True),
                                    start=start, expiry=expiry),
            "open": AccessPolicy()},
        public_access=PublicAccess.Blob)
    got = container.get_container_access_policy()
    assert got["public_access"] == "blob"
    ids = {s.id: s.access_policy for s in got["signed_identifiers"]}
    assert set(ids) == {"readers", "open"}
    assert ids["readers"].permission == "rl"
    assert ids["readers"].expiry.startswith("2099-01-01T00:00:00")
    # Clearing them keeps the public access level given with it.
    container.set_container_access_policy(signed_identifiers={}, public_access=PublicAccess.Blob)
    got = container.get_container_access_policy()
    assert got["signed_identifiers"] == [] and got["public_access"] == "blob"


def test_a_sas_naming_a_policy_follows_the_policy(tarn, container):
    container.upload_blob("r.txt", b"read me")
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    container.set_container_access_policy(signed_identifiers={
        "ro": AccessPolicy(permission=ContainerSasPermissions(read=True), expiry=expiry)})
    c = sas_client(tarn, container, policy_id="ro")
    assert c.get_blob_client("r.txt").download_blob().readall() == b"read me"
    with pytest.raises(HttpResponseError) as e:
        c.upload_blob("w.txt", b"no")
    assert e.value.status_code == 403
    # The policy changes: the same SAS may write at once.
    container.set_container_access_policy(signed_identifiers={
        "ro": AccessPolicy(permission=ContainerSasPermissions(read=True, write=True,
                                                              create=True), expiry=expiry)})
    c.upload_blob("w.txt", b"yes")
    assert container.get_blob_client("w.txt").download_blob().readall() == b"yes"
    # The policy goes: the SAS stops working on the next request.
    container.set_container_access_policy(signed_identifiers={})
    with pytest.raises(ClientAuthenticationError) as e:
        c.get_blob_client("r.txt").download_blob().readall()
    assert e.value.error_code == "AuthenticationFailed"
    assert "does not exist" in str(e.value)


def test_a_blob_sas_may_name_a_policy_and_fields_come_from_one_side(tarn, container):
    container.upload_blob("one.txt", b"1")
    container.set_container_access_policy(signed_identifiers={
        "week": AccessPolicy(permission=BlobSasPermissions(read=True),
                             expiry=datetime.now(timezone.utc) + timedelta(days=7))})
    sas = generate_blob_sas(ACCOUNT, container.container_name, "one.txt",
                            account_key=ACCOUNT_KEY, policy_id="week")
    blob = ContainerClient(f"{tarn.url}/{ACCOUNT}", container.container_name, credential=sas,
                           **SDK_KWARGS).get_blob_client("one.txt")
    assert blob.download_blob().readall() == b"1"
    # Permissions given by both the SAS and the policy: refused.
    both = generate_blob_sas(ACCOUNT, container.container_name, "one.txt",
                             account_key=ACCOUNT_KEY, policy_id="week",
                             permission=BlobSasPermissions(read=True))
    with pytest.raises(ClientAuthenticationError) as e:
        ContainerClient(f"{tarn.url}/{ACCOUNT}", container.container_name, credential=both,
                        **SDK_KWARGS).get_blob_client("one.txt").download_blob().readall()
    assert "one of them must leave it out" in str(e.value)
    # A policy that has expired ends the SAS.
    container.set_container_access_policy(signed_identifiers={
        "week": AccessPolicy(permission=BlobSasPermissions(read=True),
                             expiry=datetime.now(timezone.utc) - timedelta(minutes=1))})
    with pytest.raises(ClientAuthenticationError):
        blob.download_blob().readall()


def test_bad_policy_documents_are_refused(tarn, container):
    # The SDK itself stops at five; the server refuses a sixth as Azure does.
    ids = "".join(f"<SignedIdentifier><Id>p{i}</Id><AccessPolicy><Permission>r</Permission>"
                  "</AccessPolicy></SignedIdentifier>" for i in range(6))
    raw = RawClient(tarn)
    path = f"/{ACCOUNT}/{container.container_name}"
    query = [("restype", "container"), ("comp", "acl")]
    for body in [f"<SignedIdentifiers>{ids}</SignedIdentifiers>",
                 "<SignedIdentifiers><SignedIdentifier><Id>a</Id><AccessPolicy>"
                 "<Permission>rr</Permission></AccessPolicy></SignedIdentifier></SignedIdentifiers>",
                 "<SignedIdentifiers><SignedIdentifier><Id>a</Id><AccessPolicy>"
                 "<Expiry>soon</Expiry></AccessPolicy></SignedIdentifier></SignedIdentifiers>",
                 "<NotIdentifiers/>"]:
        r = raw.request("PUT", path, query, {"Content-Type": "application/xml"}, body.encode())
        assert r.status == 400 and r.error_code == "InvalidXmlDocument", body
    with pytest.raises(HttpResponseError) as e:
        container.set_container_access_policy(signed_identifiers={"x" * 65: AccessPolicy()})
    assert e.value.status_code == 400
    assert container.get_container_access_policy()["signed_identifiers"] == []


def test_flat_listing_code_skips_directories_as_docs_show(tarn, container):
    """docs/api.md: code written for flat accounts skips directories by hdi_isfolder."""
    container.upload_blob("raw/2026/a.csv", b"1")
    container.upload_blob("b.csv", b"2")
    data = []
    for b in container.list_blobs(include=["metadata"]):
        if (b.metadata or {}).get("hdi_isfolder") == "true":
            continue
        data.append(b.name)
    assert data == ["b.csv", "raw/2026/a.csv"]
    assert sorted(b.name for b in container.list_blobs()) == ["b.csv", "raw", "raw/2026",
                                                              "raw/2026/a.csv"]
