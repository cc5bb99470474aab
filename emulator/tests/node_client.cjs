// A second independent client proves the emulator's wire format: Google's Node.js client
// (`googleapis` from npm, generated from the People discovery document) with the emulator as
// root URL. Any disagreement between what it sends and what the emulator accepts is an emulator
// bug.
//
//   node emulator/tests/node_client.cjs <emulator binary> <dir holding node_modules/googleapis>

const { spawn } = require("node:child_process");
const path = require("node:path");
const readline = require("node:readline");
const assert = require("node:assert/strict");

const [binary, modules] = process.argv.slice(2);
const { google } = require(path.join(path.resolve(modules), "node_modules", "googleapis"));

// A tiny well-formed PNG signature is all the emulator checks.
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from("node")]);

async function start() {
  const proc = spawn(binary, ["--port", "0", "--user", "node@example.com", "--seed", "5", "--seed-other", "3", "--seed-directory", "4"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: proc.stdout });
  const it = lines[Symbol.asyncIterator]();
  const url = (await it.next()).value.replace("listening on ", "").trim();
  const token = (await it.next()).value.trim().split(" ").pop();
  return { proc, url, token };
}

async function rejects(promise, status, rpcStatus) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.response.status, status, JSON.stringify(e.response.data));
    assert.equal(e.response.data.error.status, rpcStatus, JSON.stringify(e.response.data));
    return e.response.data.error;
  }
  assert.fail(`expected HTTP ${status} ${rpcStatus}`);
}

async function main() {
  const { proc, url, token } = await start();
  try {
    const auth = new google.auth.OAuth2();
    auth.setCredentials({ access_token: token });
    const people = google.people({ version: "v1", auth, rootUrl: url + "/" });

    // create -> batchUpdateContacts (update and read masks) -> get
    const created = (await people.people.createContact({ personFields: "names,metadata", requestBody: { names: [{ givenName: "Node" }] } })).data;
    const rn = created.resourceName;
    const body = {
      contacts: { [rn]: { etag: created.etag, names: [{ givenName: "Node", familyName: "JS" }] } },
      updateMask: "names",
      readMask: "names",
    };
    const updated = (await people.people.batchUpdateContacts({ requestBody: body })).data;
    assert.equal(updated.updateResult[rn].person.names[0].familyName, "JS");
    const got = (await people.people.get({ resourceName: rn, personFields: "names" })).data;
    assert.equal(got.names[0].familyName, "JS");
    assert.notEqual(got.etag, created.etag);

    // paging through connections.list
    const seen = [];
    let pageToken;
    do {
      const page = (await people.people.connections.list({ resourceName: "people/me", personFields: "names", pageSize: 2, pageToken })).data;
      seen.push(...(page.connections || []));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.equal(seen.length, 6, "5 seeded and the one created");

    // getBatchGet with repeated names
    const batch = (await people.people.getBatchGet({ resourceNames: [rn, seen[0].resourceName], personFields: "names" })).data;
    assert.equal(batch.responses.length, 2);
    assert.equal(batch.responses[0].requestedResourceName, rn);

    // a stale etag: 400 FAILED_PRECONDITION
    await rejects(people.people.batchUpdateContacts({ requestBody: body }), 400, "FAILED_PRECONDITION");

    // other contacts: list, search (with its warm-up), copy
    const others = (await people.otherContacts.list({ readMask: "names,emailAddresses" })).data.otherContacts;
    assert.equal(others.length, 3);
    await people.otherContacts.search({ query: "", readMask: "names" });
    const found = (await people.otherContacts.search({ query: "correspondent", readMask: "emailAddresses" })).data.results;
    assert.equal(found.length, 3);
    const copied = (await people.otherContacts.copyOtherContactToMyContactsGroup({
      resourceName: others[0].resourceName,
      requestBody: { copyMask: "names,emailAddresses" },
    })).data;
    assert.match(copied.resourceName, /^people\/c/);
    await rejects(people.otherContacts.list({ readMask: "addresses" }), 400, "INVALID_ARGUMENT");

    // the domain directory
    const directory = (await people.people.listDirectoryPeople({ sources: ["DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE"], readMask: "names", requestSyncToken: true })).data;
    assert.equal(directory.people.length, 4);
    assert.ok(directory.nextSyncToken);
    const colleagues = (await people.people.searchDirectoryPeople({ query: "colleague", sources: ["DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE"], readMask: "emailAddresses" })).data;
    assert.equal(colleagues.people.length, 4);

    // contact photos
    const withPhoto = (await people.people.updateContactPhoto({ resourceName: rn, requestBody: { photoBytes: PNG.toString("base64"), personFields: "photos" } })).data;
    const photoUrl = withPhoto.person.photos[0].url;
    const served = await fetch(photoUrl);
    assert.equal(served.headers.get("content-type"), "image/png");
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), PNG);
    const without = (await people.people.deleteContactPhoto({ resourceName: rn, personFields: "photos" })).data;
    assert.equal(without.person.photos[0].default, true);
    await rejects(people.people.updateContactPhoto({ resourceName: rn, requestBody: { photoBytes: Buffer.from("<svg/>").toString("base64") } }), 400, "INVALID_ARGUMENT");

    console.log("node client: create, batchUpdateContacts, get, paging, getBatchGet, a stale etag, other contacts, the directory and photos behaved as expected");
  } finally {
    proc.kill();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
