"""Migration of legacy records (`qms import`): SOPs from .docx, CAPA and deviation logs."""
