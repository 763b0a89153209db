"""Turn a stored template and a contact's variables into the subject, HTML and text that are sent.

Templates are edited by marketers in Notion, so they are treated as untrusted code: Jinja2's
immutable sandbox refuses access to Python internals, StrictUndefined turns a missing value into
an error instead of an empty hole, and every value is HTML-escaped in the body.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape

from campaigns.errors import (
    MissingVariableError,
    TemplateContentError,
    TemplateSecurityError,
    TemplateSyntaxProblem,
    UnknownVariableError,
)

MAX_OUTPUT_CHARS = 500_000  # far above any real email
_SAFE_FILTERS = frozenset(
    [
        "abs",
        "capitalize",
        "count",
        "d",
        "default",
        "e",
        "escape",
        "first",
        "float",
        "int",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "max",
        "min",
        "replace",
        "reverse",
        "round",
        "sort",
        "string",
        "striptags",
        "sum",
        "title",
        "trim",
        "truncate",
        "unique",
        "upper",
        "urlencode",
        "wordcount",
    ]
)
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")
# `{% autoescape false %}` would print signup data as raw HTML; there is no loader to include from.
_FORBIDDEN_NODES = (
    nodes.EvalContextModifier,
    nodes.Extends,
    nodes.Include,
    nodes.Import,
    nodes.FromImport,
)
_BODY_OPEN = re.compile(r"<body[^>]*>", re.IGNORECASE)
_LEFTOVER = ("{{", "{%")
_TEXT_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=True)


@dataclass(frozen=True)
class TemplateSource:
    """The three editable parts of a template, with the id used in every message."""

    template_id: str
    subject: str
    body_html: str
    preview_text: str = ""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, minus the ways a template could turn off escaping or exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *, autoescape: bool):
        super().__init__(undefined=StrictUndefined, autoescape=autoescape)
        # `safe`, `forceescape` and friends would let signup data through as raw HTML; `center`,
        # `indent`, `format`, `wordwrap` take sizes. What is left is what copy needs.
        self.filters = {name: f for name, f in self.filters.items() if name in _SAFE_FILTERS}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("the operator '**' is not allowed in templates")
        for seq, count in ((left, right), (right, left)):
            sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
            if sized and len(seq) * count > MAX_OUTPUT_CHARS:
                raise SecurityError(f"a value over {MAX_OUTPUT_CHARS} characters is not allowed")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # `'a'.ljust(10**8)` and the like: no method of a template gets a huge size.
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and value > MAX_OUTPUT_CHARS:
                raise SecurityError(f"a size over {MAX_OUTPUT_CHARS} is not allowed")
        return super().call(__context, __obj, *args, **kwargs)


class Renderer:
    """Renders templates against a fixed set of allowed variable names."""

    def __init__(self, allowed_variables: Collection[str], required_in_body: Collection[str] = ()):
        self._allowed = frozenset(allowed_variables)
        self._required = tuple(required_in_body)
        self._html = _Sandbox(autoescape=True)
        self._text = _Sandbox(autoescape=False)

    def check(self, source: TemplateSource) -> frozenset[str]:
        """Validate a template without data; return the variables it uses."""
        if not source.subject.strip():
            raise TemplateContentError(f"Template {source.template_id} has an empty subject.")
        if not source.body_html.strip():
            raise TemplateContentError(f"Template {source.template_id} has an empty body.")
        used = frozenset().union(
            *(self._analyse(source.template_id, part, text) for part, text in _parts(source))
        )
        unknown = sorted(used - self._allowed)
        if unknown:
            raise UnknownVariableError(
                f"Template {source.template_id} uses unknown variable(s) {', '.join(unknown)}; "
                f"known variables are: {', '.join(sorted(self._allowed))}."
            )
        body_vars = self._analyse(source.template_id, "body", source.body_html)
        for name in self._required:
            if name not in body_vars:
                raise TemplateContentError(
                    f"Template {source.template_id} must contain {{{{ {name} }}}} in its body."
                )
        return used

    def render(self, source: TemplateSource, variables: Mapping[str, object]) -> RenderedEmail:
        """Render subject, HTML (with the preview text as preheader) and a plain-text part."""
        self.check(source)
        subject = " ".join(
            self._run(self._text, source, "subject", source.subject, variables).split()
        )
        body = self._run(self._html, source, "body", source.body_html, variables)
        preview = self._run(self._html, source, "preview text", source.preview_text, variables)
        text = _to_text(body)
        parts = (("subject", subject), ("body", body), ("preview text", preview), ("text", text))
        for part, value in parts:
            _refuse_leftovers(source.template_id, part, value)
        self._require_shown(source.template_id, body, variables)
        return RenderedEmail(subject=subject, html=_with_preheader(body, preview), text=text)

    def _require_shown(self, template_id: str, body: str, variables: Mapping[str, object]) -> None:
        """A required value must appear in the output, not merely in a branch never taken."""
        for name in self._required:
            value = str(variables.get(name, ""))
            if not value or (value not in body and str(escape(value)) not in body):
                raise TemplateContentError(
                    f"Template {template_id} does not show {name} in the rendered body."
                )

    def _analyse(self, template_id: str, part: str, text: str) -> set[str]:
        """Parse and compile (unknown filters fail here); refuse blocks that bypass the rules."""
        try:
            tree = self._html.parse(text)
            for node in tree.find_all(_FORBIDDEN_NODES):
                raise TemplateSecurityError(
                    f"Template {template_id} {part} uses a forbidden block "
                    f"({type(node).__name__}, line {node.lineno})."
                )
            self._html.compile(tree)
            return set(meta.find_undeclared_variables(tree))
        except TemplateSyntaxError as exc:
            raise TemplateSyntaxProblem(
                f"Template {template_id} {part} is not valid (line {exc.lineno}): {exc.message}"
            ) from None

    def _run(
        self,
        env: _Sandbox,
        source: TemplateSource,
        part: str,
        text: str,
        variables: Mapping[str, object],
    ) -> str:
        try:
            output = env.from_string(text).render(dict(variables))
        except SecurityError as exc:
            raise TemplateSecurityError(
                f"Template {source.template_id} {part} was refused by the sandbox: {exc}"
            ) from None
        except UndefinedError as exc:
            match = _UNDEFINED_NAME.fullmatch(str(exc))
            if match is None:  # e.g. `first_name.foo`: an attribute, not a variable
                raise TemplateContentError(
                    f"Template {source.template_id} {part} cannot be rendered: {exc}."
                ) from None
            raise MissingVariableError(
                f"Template {source.template_id} {part} needs variable {match.group(1)!r}, "
                "which has no value for this contact."
            ) from None
        if len(output) > MAX_OUTPUT_CHARS:
            raise TemplateContentError(f"Template {source.template_id} {part} renders too large.")
        return output


def _parts(source: TemplateSource) -> list[tuple[str, str]]:
    return [
        ("subject", source.subject),
        ("body", source.body_html),
        ("preview text", source.preview_text),
    ]


def _to_text(html: str) -> str:
    """A readable plain-text alternative: links kept as `[text](url)`, no table padding."""
    lines = [line.rstrip() for line in get_text(html, _TEXT_CONFIG).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _with_preheader(html: str, preview: str) -> str:
    """Put the preview text first in the body, hidden, where inbox previews read it."""
    if not preview.strip():
        return html
    hidden = f'<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">{preview}</div>'
    match = _BODY_OPEN.search(html)
    if match is None:
        return hidden + html
    return html[: match.end()] + hidden + html[match.end() :]


def _refuse_leftovers(template_id: str, part: str, value: str) -> None:
    """The last line of defence against a `{{ first_name }}` reaching an inbox."""
    for marker in _LEFTOVER:
        if marker in value:
            raise TemplateContentError(
                f"Template {template_id} {part} still contains {marker!r} after rendering."
            )
