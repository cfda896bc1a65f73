"""`qms demo`: a demo QMS repository built by running the real workflow on the shipped examples."""
