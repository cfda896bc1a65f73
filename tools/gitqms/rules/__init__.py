"""Rules: what a range of commits may and may not do (the CI and server gate)."""
