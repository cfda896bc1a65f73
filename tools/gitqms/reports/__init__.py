"""Reports over the records: due and overdue items."""
