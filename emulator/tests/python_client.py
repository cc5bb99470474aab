"""An independent, real client proves the emulator's wire format.

Google's own google-api-python-client is built from the vendored discovery document with the
emulator as root URL, and drives create -> batchUpdateContacts -> get, then a stale-etag update.
Google's own google-auth then gets tokens from the emulator's IAM Credentials API
(impersonated_credentials: generateAccessToken) and its STS (identity_pool: a file-sourced
subject token, exchanged, then impersonation), and uses them on the People API.

    python3 emulator/tests/python_client.py <emulator binary> discovery/people.v1.json
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time

import google.auth.exceptions
import google.auth.transport.requests
from google.auth import identity_pool, impersonated_credentials

from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError


SA = "keyless@project.iam.gserviceaccount.com"
AUDIENCE = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/ci/providers/py"
ISSUER = "https://issuer.example"
CONTACTS = "https://www.googleapis.com/auth/contacts"


def main(binary: str, document: str) -> None:
    proc = subprocess.Popen(
        [binary, "--port", "0", "--user", "py@example.com", "--keyless-service-account", SA,
         "--workload-identity", f"{AUDIENCE}={ISSUER}"],
        stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        token = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        with open(document) as f:
            discovery = json.load(f)
        discovery["rootUrl"] = discovery["baseUrl"] = url + "/"
        people = build_from_document(discovery, credentials=Credentials(token)).people()

        created = people.createContact(body={"names": [{"givenName": "Py"}]}, personFields="names,metadata").execute()
        rn = created["resourceName"]
        body = {
            "contacts": {rn: {"etag": created["etag"], "names": [{"givenName": "Py", "familyName": "Thon"}]}},
            "updateMask": "names",
            "readMask": "names",
        }
        updated = people.batchUpdateContacts(body=body).execute()
        assert updated["updateResult"][rn]["person"]["names"][0]["familyName"] == "Thon", updated
        got = people.get(resourceName=rn, personFields="names").execute()
        assert got["names"][0]["familyName"] == "Thon", got
        assert got["etag"] != created["etag"]

        try:
            people.batchUpdateContacts(body=body).execute()  # the etag is stale now
            raise SystemExit("a stale etag was accepted")
        except HttpError as e:
            error = json.loads(e.content)["error"]
            assert e.resp.status == 400 and error["status"] == "FAILED_PRECONDITION", error
            assert error["errors"][0]["reason"] == "failedPrecondition", error
        print("python client: create, batchUpdateContacts, get and a stale-etag update behaved as expected")
        google_auth(url, discovery, token)
    finally:
        proc.terminate()
        proc.wait()


def google_auth(url: str, discovery: dict, token: str) -> None:
    """google-auth's impersonation and workload identity federation against the emulator."""
    transport = google.auth.transport.requests.Request()
    generate = f"{url}/v1/projects/-/serviceAccounts/{SA}:generateAccessToken"

    impersonated = impersonated_credentials.Credentials(
        source_credentials=Credentials(token), target_principal=SA, target_scopes=[CONTACTS],
        lifetime=600, iam_endpoint_override=generate)
    impersonated.refresh(transport)
    assert impersonated.token and impersonated.expiry is not None, impersonated.expiry
    people = build_from_document(discovery, credentials=impersonated).people()
    created = people.createContact(body={"names": [{"givenName": "As SA"}]}, personFields="names").execute()
    assert created["resourceName"].startswith("people/c"), created

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    subject = ".".join([part({"alg": "RS256"}), part({"iss": ISSUER, "sub": "py-ci", "exp": int(time.time()) + 600}), "c2ln"])
    with tempfile.TemporaryDirectory() as d:
        token_file = os.path.join(d, "token")
        with open(token_file, "w") as f:
            f.write(subject)
        federated = identity_pool.Credentials.from_info({
            "type": "external_account",
            "audience": AUDIENCE,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": f"{url}/v1/token",
            "service_account_impersonation_url": generate,
            "credential_source": {"file": token_file},
        }, scopes=[CONTACTS])
        federated.refresh(transport)
    people = build_from_document(discovery, credentials=federated).people()
    listed = people.connections().list(resourceName="people/me", personFields="names").execute()
    assert [c["names"][0]["givenName"] for c in listed.get("connections", [])] == ["As SA"], listed

    denied = impersonated_credentials.Credentials(
        source_credentials=Credentials(token), target_principal="other@project.iam.gserviceaccount.com",
        target_scopes=[CONTACTS], iam_endpoint_override=generate.replace(SA, "other@project.iam.gserviceaccount.com"))
    try:
        denied.refresh(transport)
        raise SystemExit("impersonation without a grant was allowed")
    except google.auth.exceptions.RefreshError as e:
        assert "PERMISSION_DENIED" in str(e) or "403" in str(e), e
    print("python google-auth: impersonated_credentials and identity_pool (STS) got working tokens; "
          "a missing grant is refused")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
