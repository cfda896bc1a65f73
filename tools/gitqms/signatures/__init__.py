"""Electronic signatures: SSHSIG, commit trailers, the registry and the verifier."""
