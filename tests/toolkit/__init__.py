"""The test toolkit: real processes, real repositories, real people with real keys.

- `process`: the one way tests run a program (`run`; `run_bytes` for bytes) and git (`git`),
  and the environments they run in (`environment`: the test's own; `clean_env`: a fresh
  terminal's).
- `cli`: the `qms` command line, in-process (`qms`) or as its own process (`qms_cli` on a
  repository, `qms_command` anywhere).
- `people`: a `Person` with an SSH key made by ssh-keygen or an OpenPGP key made by gpg, and
  a git config that signs with it.
- `world`: a QMS repository those people act on (`World`), copied per test from one built per
  module where that is safe (`World.copy`).
- `team`: a QA team on a calendar, commits dated day by day (`Team`).
- `server`: a git server (`git daemon` on 127.0.0.1) with the gitqms hooks.
- `demo`: the real `qms demo`, built once per session, and its people at their desks.
- `browser`: a local web server, a headless Chromium, and reading a built site.
- `edits`: editing the example records field by field.
- `terminal`: a command on a pseudo-terminal, as typed at a desk, and a scripted `$EDITOR`.
- `walk`: a QA team walking records through their lives on the command line, collecting
  findings (`Walk`, `team`).
- `kill_switch`: a `git` that kills its caller, for the crash-consistency tests.
"""
