"""The sandboxed renderer: escaping, subject and preheader handling, and every refusal it makes."""

from __future__ import annotations

import re

import pytest

from campaigns.errors import (
    MissingVariableError,
    TemplateContentError,
    TemplateError,
    TemplateSecurityError,
    TemplateSyntaxProblem,
    UnknownVariableError,
)
from campaigns.rendering import MAX_OUTPUT_CHARS, Renderer, TemplateSource

ALLOWED = frozenset(
    {"first_name", "business_name", "link", "note", "unsubscribe_url", "postal_address"}
)
REQUIRED = ("unsubscribe_url",)
FOOTER = '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
VALUES: dict[str, object] = {
    "first_name": "Jo",
    "business_name": "Jo's Joinery",
    "link": "https://book.example/call?a=1&b=2",
    "unsubscribe_url": "https://hooks.example/unsubscribe?token=abc",
}
TAG = re.compile(r"<[a-zA-Z/!]")


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(ALLOWED, required_in_body=REQUIRED)


def source(
    body: str = "<p>Hi {{ first_name }}</p>",
    subject: str = "Hello {{ first_name }}",
    preview: str = "",
) -> TemplateSource:
    """A template whose body always carries the required unsubscribe link."""
    return TemplateSource(
        template_id="tpl_test", subject=subject, body_html=body + FOOTER, preview_text=preview
    )


def with_values(**overrides: object) -> dict[str, object]:
    return {**VALUES, **overrides}


# --- escaping, subject, preheader, plain text ------------------------------------------------


@pytest.mark.parametrize(
    ("value", "escaped", "raw"),
    [
        pytest.param(
            "<script>alert(1)</script>",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "<script>",
            id="script-tag",
        ),
        pytest.param("Harbour Plumbing & Heating", "Plumbing &amp; Heating", "& Heating", id="amp"),
        pytest.param('Say "hi"', "Say &#34;hi&#34;", '"hi"', id="double-quote"),
        pytest.param("Jo's", "Jo&#39;s", "Jo's", id="single-quote"),
        pytest.param(
            '"><img src=x onerror=alert(1)>',
            "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
            "<img",
            id="attribute-breakout",
        ),
    ],
)
def test_values_are_html_escaped_in_the_body(
    renderer: Renderer, value: str, escaped: str, raw: str
) -> None:
    """A value with HTML-special characters appears escaped in the body, never raw."""
    rendered = renderer.render(
        source(body='<p title="{{ note }}">{{ note }}</p>'), with_values(note=value)
    )
    assert rendered.html.count(escaped) == 2
    assert raw not in rendered.html


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("<script>alert(1)</script>", id="script-tag"),
        pytest.param("Tom & Jerry", id="amp"),
        pytest.param('The "Best" Shop', id="double-quote"),
        pytest.param("Jo's Joinery", id="single-quote"),
    ],
)
def test_values_are_not_escaped_in_the_subject(renderer: Renderer, value: str) -> None:
    """The subject is plain text, so a value appears in it exactly as given."""
    rendered = renderer.render(source(subject="News for {{ note }}"), with_values(note=value))
    assert rendered.subject == f"News for {value}"


@pytest.mark.parametrize(
    ("subject", "note", "expected"),
    [
        pytest.param("Hello\n{{ first_name }}", "x", "Hello Jo", id="newline-in-template"),
        pytest.param("Hello\r\n{{ first_name }}\n", "x", "Hello Jo", id="crlf-and-trailing"),
        pytest.param("  Hello   {{ first_name }}  ", "x", "Hello Jo", id="spaces"),
        pytest.param(
            "Hi {{ note }}",
            "Jo\r\nBcc: evil@example.com",
            "Hi Jo Bcc: evil@example.com",
            id="header-injection-in-value",
        ),
        pytest.param("Hi {{ note }}", "a\tb\n\nc", "Hi a b c", id="tab-and-blank-line"),
        pytest.param(
            "{% if first_name %}\nHi {{ first_name }}\n{% endif %}", "x", "Hi Jo", id="block-tags"
        ),
    ],
)
def test_subject_is_one_line(renderer: Renderer, subject: str, note: str, expected: str) -> None:
    """Newlines and runs of whitespace in the subject collapse into single spaces."""
    rendered = renderer.render(source(subject=subject), with_values(note=note))
    assert rendered.subject == expected
    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject


HIDDEN_DIV = re.compile(r'<div style="[^"]*display:none[^"]*">(?P<text>.*?)</div>')


@pytest.mark.parametrize(
    ("body_open", "preview", "expected_preview"),
    [
        pytest.param("<body>", "Quick wins inside", "Quick wins inside", id="plain-body"),
        pytest.param(
            '<body style="margin:0">', "For {{ first_name }}", "For Jo", id="body-with-attributes"
        ),
        pytest.param('<BODY class="x">', "Upper-case tag", "Upper-case tag", id="upper-case-body"),
        pytest.param("<body>", "{{ note }}", "A &amp; B &lt;b&gt;", id="escaped-value"),
    ],
)
def test_preview_text_is_a_hidden_div_right_after_body(
    renderer: Renderer, body_open: str, preview: str, expected_preview: str
) -> None:
    """The preview text is placed, hidden, immediately after the opening <body> tag."""
    body = f"<html><head><title>t</title></head>{body_open}<p>Hi {{{{ first_name }}}}</p>"
    rendered = renderer.render(
        source(body=body + "</body></html>", preview=preview), with_values(note="A & B <b>")
    )
    after_body = rendered.html.split(body_open, 1)[1]
    match = HIDDEN_DIV.match(after_body)
    assert match is not None, rendered.html
    assert match.group("text") == expected_preview
    assert rendered.html.count("display:none") == 1


@pytest.mark.parametrize(
    "preview", [pytest.param("", id="empty"), pytest.param("   ", id="spaces")]
)
def test_no_preview_means_no_hidden_div(renderer: Renderer, preview: str) -> None:
    """Without preview text the HTML body is left exactly as rendered."""
    rendered = renderer.render(source(body="<body><p>Hi</p>", preview=preview), VALUES)
    assert "display:none" not in rendered.html
    assert rendered.html.startswith("<body><p>Hi</p>")


def test_preview_without_body_tag_goes_first(renderer: Renderer) -> None:
    """A body fragment without <body> gets the hidden preview text at its very start."""
    rendered = renderer.render(source(body="<p>Hi</p>", preview="Peek"), VALUES)
    assert HIDDEN_DIV.match(rendered.html) is not None
    assert rendered.html.index("Peek") < rendered.html.index("<p>Hi</p>")


def test_plain_text_part_has_the_link_and_no_tags(renderer: Renderer) -> None:
    """The plain-text alternative keeps the words and the link URL, and contains no HTML tags."""
    body = (
        "<html><body><h1>Hello {{ first_name }}</h1>"
        "<table><tr><td><p>Your <strong>free</strong> review:</p></td></tr></table>"
        '<p><a href="{{ link }}">Book a call</a></p>'
    )
    rendered = renderer.render(source(body=body), VALUES)
    assert "https://book.example/call?a=1&b=2" in rendered.text
    assert "Hello Jo" in rendered.text
    assert "Book a call" in rendered.text
    assert "https://hooks.example/unsubscribe?token=abc" in rendered.text
    assert TAG.search(rendered.text) is None
    assert "&amp;" not in rendered.text


# --- unknown and missing variables -----------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "body", "preview"),
    [
        pytest.param("Hi {{ nickname }}", "<p>x</p>", "", id="subject"),
        pytest.param("Hi", "<p>{{ nickname }}</p>", "", id="body"),
        pytest.param("Hi", "<p>x</p>", "{{ nickname }}", id="preview"),
        pytest.param("Hi", "{% if nickname %}x{% endif %}", "", id="in-condition"),
        pytest.param("Hi", "{% for n in nickname %}{{ n }}{% endfor %}", "", id="in-loop"),
    ],
)
def test_unknown_placeholder_is_named(
    renderer: Renderer, subject: str, body: str, preview: str
) -> None:
    """A placeholder outside the allowed set raises UnknownVariableError naming it."""
    template = source(subject=subject, body=body, preview=preview)
    with pytest.raises(UnknownVariableError, match="nickname"):
        renderer.render(template, VALUES)
    with pytest.raises(UnknownVariableError, match="nickname"):
        renderer.check(template)


@pytest.mark.parametrize(
    ("subject", "body", "preview"),
    [
        pytest.param("Hi {{ business_name }}", "<p>x</p>", "", id="subject"),
        pytest.param("Hi", "<p>{{ business_name }}</p>", "", id="body"),
        pytest.param("Hi", "<p>x</p>", "{{ business_name }}", id="preview"),
        pytest.param("Hi", "<p>{{ business_name | upper }}</p>", "", id="through-filter"),
    ],
)
def test_missing_known_variable_is_named(
    renderer: Renderer, subject: str, body: str, preview: str
) -> None:
    """A known placeholder without a value raises MissingVariableError naming it."""
    values = {k: v for k, v in VALUES.items() if k != "business_name"}
    template = source(subject=subject, body=body, preview=preview)
    assert "business_name" in renderer.check(template)
    with pytest.raises(MissingVariableError, match="business_name"):
        renderer.render(template, values)


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        pytest.param(None, "<p>no note</p>", id="undefined-takes-else"),
        pytest.param("Cash flow", "<p>note: Cash flow</p>", id="defined-takes-if"),
        pytest.param("", "<p>note: </p>", id="defined-but-empty"),
    ],
)
def test_is_defined_guard(renderer: Renderer, note: str | None, expected: str) -> None:
    """`{% if x is defined %}` lets a template use an optional value only when it exists."""
    body = "{% if note is defined %}<p>note: {{ note }}</p>{% else %}<p>no note</p>{% endif %}"
    values = dict(VALUES) if note is None else with_values(note=note)
    rendered = renderer.render(source(body=body), values)
    assert rendered.html.startswith(expected)


def test_check_returns_the_variables_used(renderer: Renderer) -> None:
    """check() validates without data and lists every variable of subject, body and preview."""
    template = source(subject="{{ first_name }}", body="{{ link }}", preview="{{ note }}")
    assert renderer.check(template) == {"first_name", "link", "note", "unsubscribe_url"}


# --- the sandbox -----------------------------------------------------------------------------


SANDBOX_ESCAPES = [
    pytest.param("{{ ''.__class__.__mro__ }}", id="str-class-mro"),
    pytest.param("{{ first_name.__init__.__globals__ }}", id="variable-init-globals"),
    pytest.param("{{ [].__class__.__base__.__subclasses__() }}", id="list-subclasses"),
    pytest.param("{{ cycler.__init__.__globals__ }}", id="cycler-init-globals"),
    pytest.param("{{ joiner.__init__.__globals__ }}", id="joiner-init-globals"),
    pytest.param("{{ namespace.__init__.__globals__.os }}", id="namespace-init-globals"),
    pytest.param("{{ lipsum.__globals__ }}", id="lipsum-globals"),
    pytest.param("{{ ().__class__ }}", id="tuple-class"),
    pytest.param("{{ first_name.__class__ }}", id="variable-class"),
    pytest.param("{{ 'a' * 10**7 }}", id="huge-repeat-with-power"),
    pytest.param("{{ 'a' * 10000000 }}", id="huge-repeat-literal"),
    pytest.param("{{ 10000000 * 'a' }}", id="huge-repeat-count-first"),
    pytest.param("{{ [1] * 1000000 }}", id="huge-list-repeat"),
    pytest.param("{{ 2 ** 100000 }}", id="huge-power"),
    pytest.param("{{ 2 ** 2 }}", id="any-power"),
    pytest.param("{% set items = [] %}{{ items.append(1) }}", id="set-list-append"),
    pytest.param("{% set items = [] %}{% set _ = items.append(1) %}", id="set-append-silently"),
    pytest.param("{% set d = {} %}{{ d.update({'a': 1}) }}", id="dict-update"),
    pytest.param("{{ first_name.format.__globals__ }}", id="method-globals"),
]


@pytest.mark.parametrize("body", SANDBOX_ESCAPES)
def test_sandbox_escape_attempts_are_refused(renderer: Renderer, body: str) -> None:
    """Reaching Python internals, mutating objects or huge repeats raise TemplateSecurityError."""
    with pytest.raises(TemplateSecurityError, match="sandbox"):
        renderer.render(source(body=body), VALUES)


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param("{{ ''.__class__ }}", id="subject-class"),
        pytest.param("{{ 'a' * 600000 }}", id="subject-repeat"),
    ],
)
def test_sandbox_also_guards_the_subject(renderer: Renderer, subject: str) -> None:
    """The subject runs in the same sandbox as the body."""
    with pytest.raises(TemplateSecurityError):
        renderer.render(source(subject=subject), VALUES)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("{{ 'ab' * 1000 }}", id="bounded-repeat"),
        pytest.param("{% for i in range(3) %}{{ i }}{% endfor %}", id="small-range"),
        pytest.param("{{ first_name | upper }}", id="filter"),
    ],
)
def test_ordinary_expressions_are_allowed(renderer: Renderer, body: str) -> None:
    """Ordinary, bounded template code renders normally."""
    assert renderer.render(source(body=body), VALUES).html


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            "{{ ('a' * 1000 * 1000 * 10) | length }}",
            id="chained-repeat",
        ),
        pytest.param(
            "{{ 'a' | center(10000000) | length }}",
            id="center-filter",
        ),
        pytest.param(
            "{{ 'a'.ljust(10000000) | length }}",
            id="ljust-method",
        ),
    ],
)
def test_huge_intermediate_values_are_refused(renderer: Renderer, body: str) -> None:
    """A template cannot build a ten-million-character value even if it prints only its length."""
    with pytest.raises(TemplateError):
        renderer.render(source(body=body), VALUES)


def test_oversized_output_is_refused(renderer: Renderer) -> None:
    """An output above MAX_OUTPUT_CHARS, built in bounded steps, raises TemplateContentError."""
    assert MAX_OUTPUT_CHARS < 1_000_000
    with pytest.raises(TemplateContentError, match="too large"):
        body = "{% for i in range(1000) %}{{ 'a' * 1000 }}{% endfor %}"
        renderer.render(source(body=body), VALUES)


# --- syntax and content ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "body", "preview", "part"),
    [
        pytest.param("Hi", "{{ first_name ", "", "body", id="unclosed-print"),
        pytest.param("Hi", "{% if first_name %}x", "", "body", id="unclosed-if"),
        pytest.param("Hi", "{% endif %}", "", "body", id="stray-endif"),
        pytest.param("Hi", "{{ }}", "", "body", id="empty-print"),
        pytest.param("Hi", "{% frobnicate %}", "", "body", id="unknown-tag"),
        pytest.param("Hi {{ first_name", "<p>x</p>", "", "subject", id="subject"),
        pytest.param("Hi", "<p>x</p>", "{% for %}", "preview text", id="preview"),
    ],
)
def test_syntax_errors_raise_template_syntax_problem(
    renderer: Renderer, subject: str, body: str, preview: str, part: str
) -> None:
    """Invalid Jinja2 raises TemplateSyntaxProblem naming the template and the part."""
    template = source(subject=subject, body=body, preview=preview)
    with pytest.raises(TemplateSyntaxProblem, match=f"tpl_test {part} is not valid"):
        renderer.render(template, VALUES)


@pytest.mark.parametrize(
    ("subject", "body", "match"),
    [
        pytest.param("", "<p>{{ unsubscribe_url }}</p>", "empty subject", id="empty-subject"),
        pytest.param(" \n\t", "<p>{{ unsubscribe_url }}</p>", "empty subject", id="blank-subject"),
        pytest.param("Hi", "", "empty body", id="empty-body"),
        pytest.param("Hi", "  \n  ", "empty body", id="blank-body"),
    ],
)
def test_empty_subject_or_body_is_refused(
    renderer: Renderer, subject: str, body: str, match: str
) -> None:
    """An empty or whitespace-only subject or body raises TemplateContentError."""
    template = TemplateSource(template_id="tpl_test", subject=subject, body_html=body)
    with pytest.raises(TemplateContentError, match=match):
        renderer.check(template)
    with pytest.raises(TemplateContentError, match=match):
        renderer.render(template, VALUES)


@pytest.mark.parametrize(
    ("subject", "body", "preview"),
    [
        pytest.param("Hi", "<p>No footer</p>", "", id="absent"),
        pytest.param("{{ unsubscribe_url }}", "<p>x</p>", "", id="only-in-subject"),
        pytest.param("Hi", "<p>x</p>", "{{ unsubscribe_url }}", id="only-in-preview"),
        pytest.param("Hi", "<p>unsubscribe_url</p>", "", id="as-plain-word"),
        pytest.param("Hi", "{# {{ unsubscribe_url }} #}", "", id="inside-comment"),
    ],
)
def test_required_variable_missing_from_body(
    renderer: Renderer, subject: str, body: str, preview: str
) -> None:
    """A body that does not use a required variable raises TemplateContentError naming it."""
    template = TemplateSource(
        template_id="tpl_test", subject=subject, body_html=body, preview_text=preview
    )
    with pytest.raises(TemplateContentError, match=r"\{\{ unsubscribe_url \}\}"):
        renderer.render(template, VALUES)


@pytest.mark.parametrize(
    ("subject", "body", "part", "marker"),
    [
        pytest.param(
            "Hi", "{% raw %}{{ first_name }}{% endraw %}", "body", "{{", id="body-raw-placeholder"
        ),
        pytest.param("Hi", "{% raw %}{% if x %}{% endraw %}", "body", "{%", id="body-raw-tag"),
        pytest.param("{% raw %}{{{% endraw %} Hi", "<p>x</p>", "subject", "{{", id="subject-raw"),
    ],
)
def test_literal_placeholder_from_raw_is_refused(
    renderer: Renderer, subject: str, body: str, part: str, marker: str
) -> None:
    """A `{{` or `{%` left in the output (here made by `{% raw %}`) raises TemplateContentError."""
    with pytest.raises(TemplateContentError, match=f"{part} still contains '{re.escape(marker)}'"):
        renderer.render(source(subject=subject, body=body), VALUES)


@pytest.mark.parametrize(
    ("preview", "values"),
    [
        pytest.param("{% raw %}{{ first_name }}{% endraw %}", VALUES, id="raw-in-preview"),
    ],
)
def test_literal_placeholder_in_preview_is_refused(
    renderer: Renderer, preview: str, values: dict[str, object]
) -> None:
    """A `{{` left in the rendered preview text raises TemplateContentError like the body does."""
    with pytest.raises(TemplateContentError, match="still contains"):
        renderer.render(source(preview=preview), values)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("{{ first_name | safe }}", id="safe-filter"),
        pytest.param(
            "{% autoescape false %}{{ first_name }}{% endautoescape %}", id="autoescape-off"
        ),
        pytest.param("{% include 'x.html' %}", id="include"),
        pytest.param("{% extends 'base.html' %}", id="extends"),
    ],
)
def test_templates_cannot_turn_off_escaping_or_load_files(renderer: Renderer, body: str) -> None:
    """`safe`, an autoescape block, include and extends are refused before rendering."""
    with pytest.raises(TemplateError):
        renderer.render(source(body=body), VALUES)


def test_required_variable_in_a_dead_branch_is_refused() -> None:
    """A required link hidden in a branch never taken fails the render."""
    strict = Renderer({"first_name", "unsubscribe_url"}, required_in_body=("unsubscribe_url",))
    body = "Hi {% if false %}{{ unsubscribe_url }}{% endif %}"
    template = TemplateSource(template_id="dead_branch", subject="Hi", body_html=body)
    with pytest.raises(TemplateContentError, match="does not show unsubscribe_url"):
        strict.render(template, {"first_name": "A", "unsubscribe_url": "https://u/x"})


def test_unknown_attribute_is_a_content_error(renderer: Renderer) -> None:
    """An attribute that does not exist is reported as such, not as a missing variable."""
    with pytest.raises(TemplateContentError, match="cannot be rendered"):
        renderer.render(source(body="{{ first_name.foo }}"), VALUES)
