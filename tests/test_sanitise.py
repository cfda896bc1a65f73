"""The HTML policy for record bodies: what an attacker writes into an SOP never runs."""

from __future__ import annotations

import pytest

from gitqms.site.charts import bars
from gitqms.site.sanitise import clean_body, plain, text

ATTACKS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '<a href="javascript:window.__xss=1">click</a>',
    '<a href=" JaVaScRiPt:window.__xss=1">click</a>',
    '<svg onload="window.__xss=1"><circle r=1></svg>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">',
    '<form action="javascript:window.__xss=1"><button>go</button></form>',
    "<style>body{background:url(javascript:window.__xss=1)}</style>",
    '<div onclick="window.__xss=1" style="position:fixed;inset:0">x</div>',
    '<object data="javascript:window.__xss=1"></object>',
    '<a href="data:text/html,<script>window.__xss=1</script>">d</a>',
    "<!--><script>window.__xss=1</script>-->",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_script_survives_the_body_policy(attack: str) -> None:
    cleaned = clean_body(f"<p>before</p>{attack}<p>after</p>").lower()
    for forbidden in (
        "<script",
        "onerror",
        "onload",
        "onclick",
        "javascript:",
        "<iframe",
        "<meta",
        "<style",
        "<form",
        "<object",
        "<svg",
        "data:text",
        "style=",
    ):
        assert forbidden not in cleaned, (attack, cleaned)
    assert "before" in cleaned and "after" in cleaned


def test_remote_images_and_theme_ids_are_dropped_but_ordinary_markup_stays() -> None:
    cleaned = clean_body(
        '<h2 id="5-procedure">5 Procedure</h2><h3 id="__search">x</h3>'
        '<img src="https://tracker.example/p.png" alt="t"><img src="figures/flow.png" alt="f">'
        '<div class="admonition warning md-header"><p class="admonition-title">Warning</p></div>'
        '<a href="https://example.org/guide">guide</a>'
    )
    assert '<h2 id="5-procedure">' in cleaned
    assert "__search" not in cleaned  # would clobber the theme's own elements
    assert "tracker.example" not in cleaned and 'src="figures/flow.png"' in cleaned
    assert 'class="admonition warning"' in cleaned and "md-header" not in cleaned
    assert 'href="https://example.org/guide"' in cleaned


def test_fields_and_headings_become_plain_text() -> None:
    assert text('"><script>x</script>') == "&quot;&gt;&lt;script&gt;x&lt;/script&gt;"
    assert "<" not in plain('<img src=x onerror="alert(1)">Title')
    assert plain('<img src=x onerror="alert(1)">Title') == "Title"
    chart = bars("<b>t</b>", [('"><script>', 3)])
    assert "<script>" not in chart and "&lt;script&gt;" in chart
