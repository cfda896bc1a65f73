"""The server side: the pre-receive gate, the receipt log, and installing both as git hooks."""
