"""The one YAML loader for records and configuration.

Record text is untrusted input, and a value must never change meaning on load:
- only JSON-like types come out (text, whole numbers, decimals, true/false, null, lists, maps);
- `2026-01-01`, `yes`, `no`, `on`, `off`, `010`, `1:30` and the like stay text, so a schema
  that wants a date string or a boolean sees exactly what was written;
- a duplicate key, an explicit tag, a merge key or a non-text key is an error;
- file size, nesting depth and alias expansion are bounded, so a small file cannot expand
  into a large one (the "billion laughs" attack).
libyaml parses when it is present; the pure-Python parser is the fallback.

The loader is in load.py, the limits and the error in limits.py, the line-by-line shortcuts
the verifier takes in lines.py; callers import all of them from here.
"""

from .limits import MAX_FILE_BYTES as MAX_FILE_BYTES
from .limits import LoadError as LoadError
from .limits import decode_record_bytes as decode_record_bytes
from .limits import oversize as oversize
from .lines import edits_only as edits_only
from .lines import top_level_lines as top_level_lines
from .load import LineMap as LineMap
from .load import load_fields as load_fields
from .load import load_yaml as load_yaml
