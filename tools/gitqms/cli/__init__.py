"""The `qms` command line: thin click commands over the core."""
