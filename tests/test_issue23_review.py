"""Adversarial review of the issue-23 site work: where the site, or a reprint, tells a reader
something the signatures do not support. Each test up to "held up in review" was a finding,
written failing by a reviewer who did not write the code, and now guards its fix; the guards
after it held up in review. Real repositories, real keys, real site builds, real PDFs."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from test_site_changes import _hostile_revision, marked, redline_blocks
from toolkit.browser import article, visible_text
from toolkit.demo import build_site
from toolkit.team import Team, build_team
from toolkit.world import SOP

V1_BODY = "Check the logger."
V2_BODY = "Open the shipper at once; the logger is read later."


def released(team: Team) -> None:
    """SOP-0001 v1, reviewed 2026-02-03 and approved 2026-02-04, effective 2026-02-20."""
    team.on("2026-02-02")
    team.world.commit_file(team.author, SOP, team.sop_text(1, "2026-02-20", V1_BODY), "v1")
    team.release_sop("2026-02-03", "2026-02-04")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, released)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path / "world", monkeypatch)


def build(team: Team, day: str, site: Path) -> Path:
    team.qms(team.admin, "build", "--site-dir", str(site), "--date", day)
    return site


def issue(team: Team, day: str, where: str, out: Path) -> str:
    team.on(day)
    said = team.qms(
        team.officer, "pdf", "SOP-0001", "--copy-for", where, "--date", day, "-o", str(out)
    )
    [record] = re.findall(r"(COPY-\d{4}-\d{4}): controlled copy", said)
    return record


def pdf_text(path: Path) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(path).pages)


def forge_copy(team: Team, number: int, where: str, by: str, at: str) -> str:
    """A copy record written by hand from the first one (COPY-2026-0002, copy `number`),
    signed 'issued' by the officer with plain git, as an insider can."""
    world = team.world
    [first] = sorted((world.repo / "controlled-copies").glob("COPY-*.yaml"))
    record = "COPY-2026-0002"
    text = first.read_text()
    text = re.sub(r"(?m)^id: .*$", f"id: {record}", text)
    text = re.sub(r"(?m)^copy: .*$", f"copy: {number}", text)
    text = re.sub(r"(?m)^title: .*$", f'title: "Controlled copy {number} of SOP-0001 v1"', text)
    text = re.sub(r"(?m)^location: .*$", f'location: "{where}"', text)
    text = re.sub(r"(?m)^issued_by: .*$", f"issued_by: {by}", text)
    text = re.sub(r"(?m)^issued_at: .*$", f'issued_at: "{at}"', text)
    path = f"controlled-copies/{record}.yaml"
    (world.repo / path).write_text(text)
    team.on("2026-03-05")
    world.git("add", path)
    digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    world.raw_commit(
        team.officer, world.trailers(record, path, "issued", version="1", content=digest)
    )
    return record


# --- 1. a `supersedes` that points the redline at a decoy document --------------------------


def _v2_text(team: Team) -> str:
    text = team.sop_text(2, "2026-04-01", V2_BODY)
    return re.sub(r"(?ms)^(## Purpose\n\n).*?(\n## )", rf"\g<1>{V2_BODY}\n\2", text)


def test_a_revision_cannot_hide_its_change_by_naming_a_decoy_in_supersedes(
    team: Team, tmp_path: Path
) -> None:
    """SOP-0001 v2 rewrites v1's instruction ("Check the logger." -> "Open the shipper at
    once…"). Its author first releases SOP-0002 v1, a decoy with exactly v2's text, and names
    it in v2's `supersedes`. The only comparison the site then offers for SOP-0001 v2 is
    against the decoy: "no change to the text", and v1's instruction never shows as deleted,
    although SOP-0001 v1 is the approved version v2 takes over from (its own document's
    newest approved version). A reader training on the difference sees nothing to learn."""
    repo = team.world.repo
    team.on("2026-03-01")
    decoy = _v2_text(team)
    decoy = re.sub(r"(?m)^id: .*$", "id: SOP-0002", decoy)
    decoy = re.sub(r"(?m)^version: .*$", "version: 1", decoy)
    decoy = re.sub(r"(?m)^change_control:.*$", "change_control:", decoy)
    team.world.commit_file(team.author, "sops/SOP-0002.md", decoy, "a second procedure")
    team.on("2026-03-02")
    team.qms(team.officer, "review", "SOP-0002", "--reason", "content checked")
    team.on("2026-03-03")
    team.qms(team.admin, "approve", "SOP-0002", "--reason", "released")

    team.on("2026-03-10")
    revision = re.sub(r"(?m)^supersedes:.*$", 'supersedes: "SOP-0002 v1"', _v2_text(team))
    team.world.commit_file(team.author, SOP, revision, "version 2")
    team.release_sop("2026-03-11", "2026-03-12")
    assert (repo / SOP).read_text().count(V2_BODY) == 1

    site = build(team, "2026-04-15", tmp_path / "site")
    page = (site / "redline/SOP-0001-v2.html").read_text()
    deleted = " ".join(marked(redline_blocks(page), "del"))
    assert V1_BODY.rstrip(".") in deleted, (
        "SOP-0001 v2's comparison does not show v1's text it removed; it says: "
        + " ".join(visible_text(article(page)).split())[:600]
    )


# --- 2. the copies register trusts the record's own `issued_by` / `issued_at` ---------------


def test_the_copies_register_names_who_signed_the_issue_not_who_the_record_claims(
    team: Team, tmp_path: Path
) -> None:
    """Michael Okafor writes a copy record by hand that says `issued_by: a.weber` and an
    issue time years before, and signs it 'issued' himself (his own valid key, the record's
    only signature). The gate has no rule tying `issued_by`/`issued_at` to the signature, and
    the register and the verification page print the record's claim: "issued by Dr. Anna
    Weber" on a day she never signed anything."""
    issue(team, "2026-03-01", "Cleanroom B", tmp_path / "1.pdf")
    record = forge_copy(team, 2, "Ward 7", "a.weber", "2020-01-01T08:00:00Z")
    # Changed with the fix: the gate now refuses it (the premise "the gate lets it in" was the
    # finding); the register must still name the signer, not the claim, wherever it lists it.
    found = {v["rule"] for v in team.check("HEAD~1..HEAD", ok=False)["violations"]}
    assert {"copy.issuer", "copy.issued-at"} <= found, found

    site = build(team, "2026-03-06", tmp_path / "site")
    register = visible_text(article((site / "copies.html").read_text()))
    rows = [
        " ".join(row.split())
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", (site / "copies.html").read_text(), re.S)
        if record in row
    ]
    assert rows, register
    shown = " ".join(visible_text(row) for row in rows)
    assert "Anna Weber" not in shown and "2020-01-01" not in shown, (
        f"the register credits the issue to the record's claim: {shown}"
    )
    assert "Michael Okafor" in shown, shown


def test_a_copy_number_the_gate_refuses_is_neither_listed_valid_nor_reprinted(
    team: Team, tmp_path: Path
) -> None:
    """A hand-made copy record numbered 7 where only copy 1 exists: `qms check` refuses it
    (copy.number-skipped), but its 'issued' signature is valid, and that is all the register
    and `--reprint` look at: the register lists "copy 7 … in force" among the issued copies
    and `qms pdf --reprint` prints "controlled copy 7"."""
    issue(team, "2026-03-01", "Cleanroom B", tmp_path / "1.pdf")
    record = forge_copy(team, 7, "Ward 7", "m.okafor", "2026-03-05T10:00:00Z")
    found = {v["rule"] for v in team.check("HEAD~1..HEAD", ok=False)["violations"]}
    assert "copy.number-skipped" in found, found

    site = build(team, "2026-03-06", tmp_path / "site")
    html = article((site / "copies.html").read_text())
    issued = html.split("<h2>Issued copies</h2>", 1)[1].split("<h2>", 1)[0]
    problems = []
    if record in issued:
        problems.append("the register lists a copy record the gate refuses as an issued copy")
    team.on("2026-03-07")
    out = tmp_path / "reprint.pdf"
    said = team.qms(team.officer, "pdf", "--reprint", record, "-o", str(out), ok=False)
    if out.exists():
        problems.append(f"it is reprinted: {said.strip()}")
    assert not problems, problems


# --- 3. a reprint of a withdrawn copy, made legal by a past --date -------------------------


def test_a_reprint_of_a_superseded_copy_is_refused_whatever_date_is_given(
    team: Team, tmp_path: Path
) -> None:
    """Copy 1 of SOP-0001 v1 was issued 2026-03-01; v2 is in force from 2026-04-01, so the
    copy is on the register's "To withdraw" list. On 2026-05-01 (git's clock: the reprint's
    print time) `qms pdf --reprint COPY-… --date 2026-03-15` judges the version's status on
    the day given, not on the day it prints: it prints a fresh copy of the withdrawn v1,
    marked REPRINT with today's time, as though v1 were still the version to work to."""
    record = issue(team, "2026-03-01", "Cleanroom B", tmp_path / "1.pdf")
    team.on("2026-03-10")
    team.write_sop(2, "2026-04-01", "Read the logger before opening.", supersedes=1)
    team.release_sop("2026-03-11", "2026-03-12")
    register = (build(team, "2026-05-01", tmp_path / "site") / "copies.html").read_text()
    assert "superseded by v2" in visible_text(article(register))

    team.on("2026-05-01", "09:00:00")
    out = tmp_path / "reprint.pdf"
    said = team.qms(
        team.officer,
        "pdf",
        "--reprint",
        record,
        "--date",
        "2026-03-15",
        "-o",
        str(out),
        ok=False,
    )
    printed = out.exists() and "REPRINT" in pdf_text(out)
    assert not printed, f"a withdrawn copy of v1 was reprinted on 2026-05-01: {said}"


# --- 4. held up in review (a guard): what a verification page says the approved bytes are -------------------------------


def test_the_verification_page_hash_is_the_committed_bytes(team: Team, tmp_path: Path) -> None:
    """Held up in review (kept as a guard): the page's sha256 is that of the approved bytes
    in git, not of the working tree's file."""
    approved = hashlib.sha256(team.world.content(SOP)).hexdigest()
    (team.world.repo / SOP).write_text((team.world.repo / SOP).read_text() + "\nEdited.\n")
    site = build(team, "2026-03-01", tmp_path / "site")
    said = visible_text(article((site / "verify/SOP-0001-v1.html").read_text()))
    assert approved in said
    edited = hashlib.sha256((team.world.repo / SOP).read_bytes()).hexdigest()
    assert edited not in said


# --- 5. a document replaced by another document (SOP-0002 v1 supersedes SOP-0001 v2) -------


@pytest.fixture(scope="module")
def replaced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """test_site_changes' history: SOP-0001 v2 effective 2026-02-20; SOP-0002 v1, whose
    `supersedes` names SOP-0001 v2, effective 2026-02-25. The site of 2026-03-01."""
    team = build_team(tmp_path_factory, _hostile_revision)
    site = tmp_path_factory.mktemp("replaced-site") / "site"
    build_site(team.world.repo, site, "--date", "2026-03-01")
    return site


def test_the_page_of_a_document_replaced_by_another_says_it_is_not_for_use(
    replaced: Path,
) -> None:
    """sops/SOP-0001.html is where staff read SOP-0001. On 2026-03-01 it is superseded by
    SOP-0002, yet the page opens with "Approved by Dr. Anna Weber … effective from
    2026-02-20" over the v2 text and no banner at all: only the Status cell says
    'superseded'. (An obsolete document gets an OBSOLETE banner; a superseded one gets
    nothing.) It must say plainly that it is not for use and lead to SOP-0002."""
    page = article((replaced / "sops/SOP-0001.html").read_text())
    head = visible_text(page.split('class="qms-approved"', 1)[0])
    said = visible_text(page)
    assert "not for use" in said.lower() and "SOP-0002" in said, (
        "no 'not for use' banner above the approvers line: " + head[-400:]
    )


def test_what_is_new_says_which_document_a_new_one_replaces(replaced: Path) -> None:
    """What is new lists SOP-0002 v1 as "became effective" with nothing about SOP-0001, and
    SOP-0001 v2's row has no event on 2026-02-25, the day it stopped being in force: staff
    working to SOP-0001 are never told that it was replaced. The redline page and SOP-0002's
    own page do say 'Replaces SOP-0001 v2'."""
    page = article((replaced / "whats-new.html").read_text())
    rows = [
        " ".join(visible_text(row).split())
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)
    ]
    sop2 = [row for row in rows if row.startswith("SOP-0002")]
    sop1 = [row for row in rows if row.startswith("SOP-0001")]
    assert sop2 and sop1, rows
    assert all("SOP-0001" in row for row in sop2), f"SOP-0002's entry: {sop2}"
    assert all("2026-02-25" in row for row in sop1), f"SOP-0001's entry: {sop1}"


def test_the_verification_page_of_a_replaced_version_names_the_one_in_force(
    replaced: Path,
) -> None:
    """verify/SOP-0001-v2.html (where a printed copy's QR code leads) says "SUPERSEDED …
    Withdraw every copy" but not what to work to instead: it names a version in force only
    when it is of the same document."""
    said = visible_text(article((replaced / "verify/SOP-0001-v2.html").read_text()))
    assert "SUPERSEDED" in said
    assert "SOP-0002" in said, said[:400]


# --- 6. the approvers line and a release its change control does not let count ------------


def held_release(team: Team, tmp_path: Path) -> Path:
    """SOP-0001 v2 under CC-2026-0001: Dr. Anna Weber's release before the change control is
    approved (held), then Dr. Karl Brandt's after it (counts); the site of 2026-03-02."""
    from test_change_control import CC, approve_cc, assess, new_cc, release_by_hand, sop_v2

    world = team.world
    second = world.person("k.brandt", "Dr. Karl Brandt")
    team.on("2026-02-05")
    world.add_person(team.admin, second, "qa-manager")
    team.qms(team.admin, "keys", "add", second.id, str(second.pub), "--reason", "new signer")
    new_cc(team, "2026-02-06")
    assess(team, "2026-02-07")
    sop_v2(team, "2026-02-08", "2026-03-01", CC)
    release_by_hand(team, "2026-02-09", "2026-02-10")  # Anna Weber's release: held
    approve_cc(team, "2026-02-11", ("SOP-0001", 2))
    team.on("2026-02-12")
    team.qms(second, "approve", "SOP-0001", "--reason", "released under the approved CC")
    status = team.status("2026-03-02", "SOP-0001")["SOP-0001"]
    assert (status["state"], status["version"]) == ("effective", "2"), status
    held = [note for note in status["notes"] if "does not count" in note]
    assert held and held[0].startswith("Dr. Anna Weber's 'approved' does not count"), status
    return build(team, "2026-03-02", tmp_path / "site")


def test_the_approvers_line_leaves_out_a_release_its_change_control_held(
    team: Team, tmp_path: Path
) -> None:
    """SOP-0001 v2 names CC-2026-0001. Dr. Anna Weber signs v2 'approved' (by hand, as only an
    insider can) before the change control is approved: her release does not count (`qms
    status` says so). Once the change control is approved, a second QA manager approves v2,
    which is then released by his signature alone. The page's "Approved by …" line must name
    only him; it names Dr. Anna Weber too, because it takes every cryptographically valid
    'approved' signature on the content, not the ones that count."""
    site = held_release(team, tmp_path)
    page = article((site / "sops/SOP-0001.html").read_text())
    [line] = re.findall(r'<p class="qms-approved">(.*?)</p>', page, re.S)
    said = " ".join(visible_text(line).split())
    assert "Karl Brandt" in said, said
    assert "Anna Weber" not in said, (
        f"the approvers line names a release that does not count: {said}"
    )


def test_the_verification_page_does_not_call_a_held_release_valid(
    team: Team, tmp_path: Path
) -> None:
    """The same history: the verification page (where a copy's QR code leads) says its hash
    is of "the exact bytes the signatures below approved" and lists Dr. Anna Weber's held
    release with the verdict "valid", nothing saying it does not count (`qms status` does).
    The same row in the version's signature block."""
    site = held_release(team, tmp_path)
    for path in ("verify/SOP-0001-v2.html", "sops/SOP-0001.html"):
        page = article((site / path).read_text())
        page = "".join(re.findall(r'<section class="qms-signatures".*?</section>', page, re.S))
        rows = [
            " ".join(visible_text(row).split())
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)
            if "Anna Weber" in row and "approved" in row
        ]
        assert rows, path
        assert all(" valid " not in f" {row} " for row in rows), (path, rows)


def test_a_pdf_manifest_leaves_out_a_release_its_change_control_held(
    team: Team, tmp_path: Path
) -> None:
    """The same history, printed with `qms pdf`: the signature manifest of v2 names the
    release that counts (Dr. Karl Brandt) and not the held one, as the site does."""
    held_release(team, tmp_path)
    out = tmp_path / "v2.pdf"
    team.qms(team.officer, "pdf", "SOP-0001", "--date", "2026-03-02", "-o", str(out))
    said = pdf_text(out)
    manifest = said[said.index("Signature manifest") :] if "Signature manifest" in said else said
    assert "Karl Brandt" in manifest, manifest[:600]
    assert "Anna Weber" not in manifest, f"the manifest names a held release: {manifest[:600]}"


# --- 7. unicode bidi controls in a revision -------------------------------------------------

BIDI = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: what follows it on the line is drawn reversed


def test_a_bidi_override_in_a_revision_does_not_reach_the_redline_raw(
    team: Team, tmp_path: Path
) -> None:
    """v2 inserts "Store at {RLO}C° 08- ot 0" which a browser draws as "Store at 0 to -80 °C"
    while the bytes (and `qms verify-copy`, and a copy-paste) say otherwise; the override also
    runs on over the redline's own insertion and deletion marks in its block. The project's
    import report removes these controls (test_import_independent); the redline, the new
    page made for reading a change, passes them to the browser as they are. They must show as
    a visible mark (or be removed), not act."""
    team.on("2026-03-01")
    team.write_sop(2, "2026-04-01", f"Store at {BIDI}C\u00b0 08- ot 0 before use.", supersedes=1)
    team.release_sop("2026-03-02", "2026-03-03")
    site = build(team, "2026-03-05", tmp_path / "site")
    page = article((site / "redline/SOP-0001-v2.html").read_text())
    inserted = " ".join(marked(redline_blocks(page), "ins"))
    assert "08- ot 0" in inserted, inserted
    assert BIDI not in page, "a raw RIGHT-TO-LEFT OVERRIDE reaches the redline page"


# --- 8. a UTC time shown in the organisation's zone, a due date counted from the UTC day ----


def test_a_deviation_page_counts_its_due_date_from_the_day_it_shows(
    team: Team, tmp_path: Path
) -> None:
    """The organisation works in Europe/Berlin. A deviation discovered at 23:30 UTC on
    2026-03-01 (00:30 on 2026-03-02 in Berlin, where it happened): its page now shows
    "Discovered at 2026-03-02 00:30 CET" (the issue-23 record page turns UTC times into local
    ones), but the investigation due date beside it is counted from the UTC day, 2026-03-01.
    A reader checking "30 days from discovery" finds 29. The day shown and the day counted
    from must be the same day (or the page must say which day the due date counts from)."""
    world = team.world
    team.on("2026-03-01", "23:00:00")
    config = (world.repo / "qms.yaml").read_text()
    config = re.sub(
        r"(?m)^(organisation:\n(?:  .*\n)*?)", r"\1  time_zone: Europe/Berlin\n", config, count=1
    )
    assert "time_zone: Europe/Berlin" in config
    team.sign_config(config)
    team.qms(team.author, "new", "deviation", "--title", "Logger read late at receipt")
    [path] = sorted((world.repo / "deviations").glob("DEV-*.yaml"))
    text = re.sub(
        r"(?m)^discovered_at: .*$", 'discovered_at: "2026-03-01T23:30:00Z"', path.read_text()
    )
    team.on("2026-03-01", "23:40:00")
    world.commit_file(team.author, f"deviations/{path.name}", text, "new deviation")
    site = build(team, "2026-03-05", tmp_path / "site")
    page = (site / f"deviations/{path.stem}.html").read_text()
    header = page[page.index('class="qms-record-header"') :]
    header = " ".join(visible_text(header[: header.index("</table>")]).split())
    shown = re.search(r"Discovered at (\d{4}-\d\d-\d\d) \d\d:\d\d", header)
    due = re.search(r"Next due (?:overdue )?(\d{4}-\d\d-\d\d)", header)
    assert shown and due, header
    days = (date.fromisoformat(due.group(1)) - date.fromisoformat(shown.group(1))).days
    assert days == 30, f"{header}: due {days} days after the discovery day shown"


# --- 9. a version replaced before it ever came into force ---------------------------------


def test_the_change_staff_train_on_is_from_the_version_they_worked_to(
    team: Team, tmp_path: Path
) -> None:
    """v2 is approved on 2026-03-03, effective from 2026-06-01; before that day v3 is approved
    (supersedes v2) and effective from 2026-03-20. v2 is never in force: until 2026-03-20
    staff work to v1. On 2026-03-25 What is new says v3 "became effective, replacing v2" and
    v3's comparison page shows only what changed from v2 ("Replaces SOP-0001 v2: superseded,
    effective from 2026-06-01"), a day after the site's day. The change from v1, the text
    everybody worked to, shows nowhere for v3."""
    team.on("2026-03-01")
    team.write_sop(2, "2026-06-01", "Version two text here.", supersedes=1)
    team.release_sop("2026-03-02", "2026-03-03")
    team.on("2026-03-10")
    team.write_sop(3, "2026-03-20", "Version three text here.", supersedes=2)
    team.release_sop("2026-03-11", "2026-03-12")
    site = build(team, "2026-03-25", tmp_path / "site")

    news = article((site / "whats-new.html").read_text())
    rows = [
        " ".join(visible_text(r).split()) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", news, re.S)
    ]
    [v3] = [row for row in rows if row.startswith("SOP-0001 Receipt of ATMPs v3")]
    assert "replacing v2" not in v3, f"v2 was never in force: {v3}"

    page = (site / "redline/SOP-0001-v3.html").read_text()
    deleted = " ".join(marked(redline_blocks(page), "del"))
    assert V1_BODY.rstrip(".") in deleted, (
        "v3's comparison leaves out v1's text it replaced in force: "
        + " ".join(visible_text(article(page)).split())[:500]
    )


def test_what_is_new_never_says_a_version_became_effective_that_never_was_in_force(
    team: Team, tmp_path: Path
) -> None:
    """v2 is approved with effective date 2026-03-22; v3, approved later and effective from
    2026-03-20, supersedes it first. v2 is never in force (v1 is until 2026-03-20, v3 from
    then on), yet on 2026-03-25 What is new lists v2 as "became effective" on 2026-03-22:
    an event is taken from the effective date a version states, whatever its status."""
    team.on("2026-03-01")
    team.write_sop(2, "2026-03-22", "Version two text here.", supersedes=1)
    team.release_sop("2026-03-02", "2026-03-03")
    team.on("2026-03-10")
    team.write_sop(3, "2026-03-20", "Version three text here.", supersedes=2)
    team.release_sop("2026-03-11", "2026-03-12")
    site = build(team, "2026-03-25", tmp_path / "site")
    news = article((site / "whats-new.html").read_text())
    rows = [
        " ".join(visible_text(r).split()) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", news, re.S)
    ]
    [v2] = [row for row in rows if row.startswith("SOP-0001 Receipt of ATMPs v2")]
    assert "became effective" not in v2, f"v2 was never in force: {v2}"


# --- 10. a change the redline does not see ---------------------------------------------------

FENCED = "Set the freezer alarm as below.\n\n```yaml\nalarm:\n  low: -150\n  high: -135\n```\n"
UNINDENTED = "Set the freezer alarm as below.\n\n```yaml\nalarm:\nlow: -150\nhigh: -135\n```\n"


def test_a_change_inside_a_code_block_is_not_called_no_change(team: Team, tmp_path: Path) -> None:
    """v3 differs from v2 only inside a fenced code block: the alarm limits lose their
    indentation, which changes what the block says (in YAML, `low` and `high` are no longer
    under `alarm`). The redline module calls fenced blocks those whose line breaks matter, yet
    its comparison collapses whitespace: v3's comparison page says "no change to the text" and
    marks nothing, although the approved bytes differ."""
    team.on("2026-03-01")
    team.write_sop(2, "2026-03-20", FENCED, supersedes=1)
    team.release_sop("2026-03-02", "2026-03-03")
    team.on("2026-03-10")
    team.write_sop(3, "2026-04-01", UNINDENTED, supersedes=2)
    team.release_sop("2026-03-11", "2026-03-12")
    site = build(team, "2026-03-15", tmp_path / "site")
    page = (site / "redline/SOP-0001-v3.html").read_text()
    said = " ".join(visible_text(article(page)).split())
    assert "Text no change to the text" not in said, said[:700]


# --- 11. a recorded value the page's declaration names but cannot show ---------------------


def test_a_recorded_risk_that_is_not_a_table_still_shows_on_the_page(
    team: Team, tmp_path: Path
) -> None:
    """The CAPA kind's `page:` gives `risk` a section of its own, shown as a risk table when
    it is a map. A CAPA whose author recorded the risk as a sentence (the schema wants a map:
    `qms check` says so, yet the record is committed and published) loses it from its page
    altogether: the risk section is left out, and "Other details" leaves out every path the
    declaration names. Every recorded value must be on the page."""
    team.on("2026-03-01")
    out = team.qms(team.officer, "new", "capa", "--title", "Logger read late")
    [path] = re.findall(r"capa/CAPA-\d{4}-\d{4}\.yaml", out)
    sentence = "Accepted by the QA manager by telephone; no score was given."
    text = (team.world.repo / path).read_text() + f'risk: "{sentence}"\n'
    team.world.commit_file(team.officer, path, text, "risk noted")
    site = build(team, "2026-03-02", tmp_path / "site")
    stem = Path(path).stem
    page = visible_text(article((site / f"capa/{stem}.html").read_text()))
    assert sentence in page, "the recorded risk is on no part of the CAPA's page"


# --- held up in review (guards) -------------------------------------------------------------


def news_rows(site: Path) -> list[str]:
    news = article((site / "whats-new.html").read_text())
    return [
        " ".join(visible_text(row).split())
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", news, re.S)
        if "SOP-0001" in row
    ]


def test_what_is_new_window_counts_its_first_and_last_day(team: Team, tmp_path: Path) -> None:
    """v1 approved 2026-02-04, effective 2026-02-20; the window is 30 days up to and including
    the site's day. Held up: both ends are inclusive, and a site day years ahead lists
    nothing of 2026."""
    first = news_rows(build(team, "2026-03-05", tmp_path / "a"))  # window 02-04 … 03-05
    assert len(first) == 1 and "2026-02-04 approved" in first[0].replace(
        "new version approved", "approved"
    ), first
    later = news_rows(build(team, "2026-03-06", tmp_path / "b"))  # window 02-05 … 03-06
    assert len(later) == 1 and "2026-02-04" not in later[0] and "2026-02-20" in later[0], later
    last = news_rows(build(team, "2026-03-21", tmp_path / "c"))  # window 02-20 … 03-21
    assert len(last) == 1 and "2026-02-20 became effective" in last[0], last
    assert news_rows(build(team, "2026-03-22", tmp_path / "d")) == []
    assert news_rows(build(team, "2031-06-01", tmp_path / "e")) == []


# --- 12. a state no signature reached, in a register -----------------------------------------


def test_the_register_does_not_show_a_state_no_signature_reached_as_the_state(
    team: Team, tmp_path: Path
) -> None:
    """A CAPA opened on 2026-03-01 is edited to `state: closed` in a plain commit (no
    transition signature). Its page warns ("the state 'closed' was not reached by a signed
    transition") and shows the last signed state; the register's row shows a plain "closed"
    badge, its state filter files it under "closed", and nothing on the row says otherwise.
    The register is where QA counts open CAPAs."""
    team.on("2026-03-01")
    out = team.qms(team.officer, "new", "capa", "--title", "Logger read late")
    [path] = re.findall(r"capa/CAPA-\d{4}-\d{4}\.yaml", out)
    text = (team.world.repo / path).read_text()
    team.world.commit_file(team.officer, path, text, "opened")
    team.on("2026-03-02")
    text = re.sub(r"(?m)^state: .*$", "state: closed", text)
    team.world.commit_file(team.author, path, text, "closed, I think")
    site = build(team, "2026-03-03", tmp_path / "site")
    stem = Path(path).stem
    page = visible_text(article((site / f"capa/{stem}.html").read_text()))
    assert "not reached by a signed transition" in page, page[:500]
    register = (site / "capa/index.html").read_text()
    [row] = [r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", register, re.S) if stem in r]
    state = re.search(r'<td class="qms-state" data-state="([^"]*)">(.*?)</td>', row, re.S)
    assert state, row
    shown = " ".join(visible_text(state.group(2)).split())
    assert (state.group(1), shown) != ("closed", "closed"), (
        f"the register shows an unsigned state as the CAPA's state: {row}"
    )


HOSTILE_REASON = "[open](javascript:alert(1)) <img src=x onerror=alert(2)> </table> **bold**"


def test_hostile_reason_stays_text_on_the_new_pages(team: Team, tmp_path: Path) -> None:
    """Held up: a change reason with a Markdown javascript: link, an image with a handler and
    a stray </table> is shown as text on What is new, the comparison page and the
    verification page; no link, image or broken table comes of it."""
    team.on("2026-03-01")
    text = team.sop_text(2, "2026-03-20", "Read the logger first.", supersedes=1)
    text = re.sub(r"(?m)^change_reason:.*$", f"change_reason: {HOSTILE_REASON!r}", text)
    assert HOSTILE_REASON in text
    team.world.commit_file(team.author, SOP, text, "version 2")
    team.release_sop("2026-03-02", "2026-03-03")
    site = build(team, "2026-03-05", tmp_path / "site")
    for path in ("whats-new.html", "redline/SOP-0001-v2.html", "verify/SOP-0001-v2.html"):
        page = article((site / path).read_text())
        assert 'href="javascript' not in page and "<img" not in page, path
        assert page.count("<table") == page.count("</table>"), path
    said = visible_text(article((site / "whats-new.html").read_text()))
    assert "[open](javascript:alert(1))" in said
