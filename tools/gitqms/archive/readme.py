"""README.txt of an archive: how to check and restore it by hand, with coreutils and git."""

from __future__ import annotations

from . import ARCHIVE_JSON, BUNDLE, MANIFEST, REPORT_JSON, REPORT_TEXT, SITE

_TEXT = """\
gitqms archive of a quality management system repository
=========================================================

Archived tip:  {tip}{head}
Trust root:    {trust_root}
History:       {commits} commits

The records, their whole history and every electronic signature (signed git commits) are in
{bundle}. Nothing in this folder needs gitqms to be read: the steps below use only
coreutils (sha256sum) and git. With gitqms installed, one command does all of them:

    qms archive verify ARCHIVE_FOLDER

What is here
------------
{bundle}   a git bundle of every ref: branches, tags, and notes such as
                    refs/notes/qms-receipts (the server's receipt time of each commit);
                    never a replace ref (refs/replace/*)
{site}/               the published site at the archived tip; open {site}/index.html in a
                    browser (it works offline, from disk)
{report_json}   the signature verification of the whole history (qms verify --format json)
{report_text}    the same, for people
{manifest}     the sha256 of every file above and of this README
{archive_json}        tool versions, creation time (UTC), every ref and its commit, the trust
                    root, the sha256 of {manifest}, and a seal over its own content

1. Check that no file changed
-----------------------------
    cd ARCHIVE_FOLDER
    sha256sum -c {manifest}          every line must say OK
    sha256sum {manifest}             must equal "manifest_sha256" in {archive_json},
                                     and the fingerprint written down when the archive was made

2. Check and restore the history
--------------------------------
    git init --bare /tmp/check.git
    git -C /tmp/check.git bundle verify "$PWD/{bundle}"
    git clone -c {no_replace} "$PWD/{bundle}" /tmp/restored
    git -C /tmp/restored fetch "$PWD/{bundle}" 'refs/notes/*:refs/notes/*'
    git -C /tmp/restored fsck --full
    git clone -c {no_replace} --mirror "$PWD/{bundle}" /tmp/restored.git
    git -C /tmp/restored.git for-each-ref         compare with "refs" in {archive_json}

/tmp/restored is a working copy of the archived branch (its branches show as
refs/remotes/origin/*); /tmp/restored.git holds every ref at once, by its own name. Cloning
recomputes the id of every object from its content: a changed byte fails it. {no_replace}
makes git show every object as committed: a ref under refs/replace/ would show another object
in its place. An archive never holds one; if for-each-ref lists any, the bundle was changed.

3. Check the signatures
-----------------------
With gitqms:
    qms -C /tmp/restored verify --trust-root {trust_root}
and compare its output with {report_text} (below its heading): it must be the same.

With git alone, for one signature commit: write the signer's public key from qms.yaml (as
committed in the commit's first parent) into an allowed-signers file, one line
    EMAIL namespaces="git" ssh-ed25519 AAAA...
then
    git -C /tmp/restored -c gpg.ssh.allowedSignersFile=/tmp/allowed_signers verify-commit -v COMMIT
OpenPGP signatures verify with `git verify-commit` once the signer's key is imported into gpg.
"""


def readme_text(tip: str, head: str | None, trust_root: str, commits: int) -> str:
    return _TEXT.format(
        tip=tip,
        head=f" ({head})" if head else " (detached HEAD)",
        trust_root=trust_root,
        commits=commits,
        bundle=BUNDLE,
        site=SITE,
        report_json=REPORT_JSON,
        report_text=REPORT_TEXT,
        manifest=MANIFEST,
        archive_json=ARCHIVE_JSON,
        no_replace="core.useReplaceRefs=false",
    )
