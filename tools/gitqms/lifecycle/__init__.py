"""Lifecycles: derived status of controlled documents, state changes of CAPAs and deviations."""
