"""An independent, real client proves the emulator's wire format.

Google's own google-api-python-client is built from the vendored discovery document with the
emulator as root URL, and drives create -> batchUpdateContacts -> get, then a stale-etag update.

    python3 emulator/tests/python_client.py <emulator binary> discovery/people.v1.json
"""

import json
import subprocess
import sys

from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError


def main(binary: str, document: str) -> None:
    proc = subprocess.Popen([binary, "--port", "0", "--user", "py@example.com"], stdout=subprocess.PIPE, text=True)
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
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
