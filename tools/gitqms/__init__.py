"""gitqms: document control, deviations and CAPA for hospital ATMP quality teams, kept in Git."""

__version__ = "0.1.0"
